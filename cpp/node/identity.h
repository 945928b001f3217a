// Who the plugin is. The identifier and major version are stored in host projects:
// never change them for a compatible update (bump the minor version instead).
#pragma once

namespace ee {

inline constexpr const char kPluginIdentifier[] = "io.emotionedit.EmotionEdit";
inline constexpr unsigned kPluginVersionMajor = 1;  // incompatible parameter changes only
inline constexpr unsigned kPluginVersionMinor = 0;  // everything else
inline constexpr const char kPluginLabel[] = "EmotionEdit";
inline constexpr const char kPluginGrouping[] = "Face";
inline constexpr const char kPluginDescription[] =
    "Edits the facial emotion of a person in talking-face footage, keeping lip sync, identity, head pose "
    "and everything outside the face. Analyse the shot once with `emotionedit analyze` and set Analysis File; "
    "without one the node tracks each frame on its own at preview quality.";

}  // namespace ee
