// The node's parameters: one table shared by describe (defining them) and render
// (reading them at the render time). Names are script names stored in host projects,
// MLT properties and farm scripts, and python/emotionedit/node/params.py reads the same
// names: never rename one. Choice options follow the engine's append-only enums
// (emotionedit.edit.Emotion, the edit modes, emotionedit.render.Output), so an option's
// index never changes meaning; tests/node checks the two sides agree.
#pragma once

#include <cstddef>

namespace ee::param {

enum class Kind { Double, Int, Bool, Choice, String };

inline constexpr char kEmotion[] = "emotion";
inline constexpr char kIntensity[] = "intensity";
inline constexpr char kEmotion2[] = "emotion2";
inline constexpr char kBlend[] = "blend";
inline constexpr char kLipPreservation[] = "lipPreservation";
inline constexpr char kSkinDetail[] = "skinDetail";
inline constexpr char kMode[] = "mode";
inline constexpr char kRegionGroup[] = "regions";
inline constexpr char kBrows[] = "regionBrows";
inline constexpr char kEyes[] = "regionEyes";
inline constexpr char kCheeks[] = "regionCheeks";
inline constexpr char kNose[] = "regionNose";
inline constexpr char kMouth[] = "regionMouth";
inline constexpr char kSmoothing[] = "smoothing";
inline constexpr char kAnalysisFile[] = "analysisFile";
inline constexpr char kFrameOffset[] = "frameOffset";
inline constexpr char kFace[] = "face";
inline constexpr char kOutput[] = "output";

struct Spec {
  const char *name;
  Kind kind;
};

// Every value the engine receives, in a stable order.
inline constexpr Spec kValues[] = {
    {kEmotion, Kind::Choice},
    {kIntensity, Kind::Double},
    {kEmotion2, Kind::Choice},
    {kBlend, Kind::Double},
    {kLipPreservation, Kind::Double},
    {kMode, Kind::Choice},
    {kBrows, Kind::Bool},
    {kEyes, Kind::Bool},
    {kCheeks, Kind::Bool},
    {kNose, Kind::Bool},
    {kMouth, Kind::Bool},
    {kSmoothing, Kind::Double},
    {kAnalysisFile, Kind::String},
    {kFrameOffset, Kind::Int},
    {kFace, Kind::String},
    {kOutput, Kind::Choice},
    {kSkinDetail, Kind::Double},  // appended: the order of the others never changes
};
inline constexpr std::size_t kValueCount = sizeof(kValues) / sizeof(kValues[0]);

// emotionedit.edit.Emotion, in value order (append-only).
inline constexpr const char *kEmotionOptions[] = {"Neutral",   "Happy",   "Sad",       "Angry",
                                                  "Surprised", "Fearful", "Disgusted", "Contempt"};
// emotionedit.edit.MODES, in order (append-only).
inline constexpr const char *kModeOptions[] = {"Add", "Replace"};
// emotionedit.render.Output, in value order (append-only).
inline constexpr const char *kOutputOptions[] = {"Edited", "Face Matte", "Landmarks", "Occlusion"};
// Emotion 2 is "None" followed by the emotions: option i + 1 is Emotion(i).
inline constexpr const char kNoEmotion[] = "None";

// The engine's bounds (emotionedit.edit.expression.MAX_INTENSITY, MAX_SKIN_DETAIL, engine.DEFAULT_SMOOTHING).
inline constexpr double kMaxIntensity = 2.0;
inline constexpr double kMaxSkinDetail = 2.0;
inline constexpr double kDefaultSmoothing = 1.5;

}  // namespace ee::param
