#include "describe.h"

#include "identity.h"
#include "ofx_names.h"
#include "params.h"
#include "suites.h"

namespace ee {

namespace {

OfxPropertySetHandle define(OfxParamSetHandle set, const char *type, const char *name, const char *label,
                            const char *hint) {
  OfxPropertySetHandle p = nullptr;
  if (params().paramDefine(set, type, name, &p) != kOfxStatOK || p == nullptr) return nullptr;
  props().propSetString(p, kOfxPropLabel, 0, label);
  props().propSetString(p, kOfxParamPropScriptName, 0, name);
  props().propSetString(p, kOfxParamPropHint, 0, hint);
  return p;
}

void set_parent(OfxPropertySetHandle p, const char *group) {
  if (p != nullptr) props().propSetString(p, kOfxParamPropParent, 0, group);
}

OfxPropertySetHandle define_double(OfxParamSetHandle set, const char *name, const char *label, const char *hint,
                                   double value, double min, double max, double display_max, bool animates) {
  OfxPropertySetHandle p = define(set, kOfxParamTypeDouble, name, label, hint);
  if (p == nullptr) return nullptr;
  props().propSetString(p, kOfxParamPropDoubleType, 0, kOfxParamDoubleTypePlain);
  props().propSetDouble(p, kOfxParamPropDefault, 0, value);
  props().propSetDouble(p, kOfxParamPropMin, 0, min);
  props().propSetDouble(p, kOfxParamPropMax, 0, max);
  props().propSetDouble(p, kOfxParamPropDisplayMin, 0, min);
  props().propSetDouble(p, kOfxParamPropDisplayMax, 0, display_max);
  props().propSetDouble(p, kOfxParamPropIncrement, 0, 0.01);
  props().propSetInt(p, kOfxParamPropDigits, 0, 3);
  props().propSetInt(p, kOfxParamPropAnimates, 0, animates ? 1 : 0);
  return p;
}

template <std::size_t N>
OfxPropertySetHandle define_choice(OfxParamSetHandle set, const char *name, const char *label, const char *hint,
                                   const char *const (&options)[N], int value, bool animates,
                                   const char *first = nullptr) {
  OfxPropertySetHandle p = define(set, kOfxParamTypeChoice, name, label, hint);
  if (p == nullptr) return nullptr;
  int index = 0;
  if (first != nullptr) {
    props().propSetString(p, kOfxParamPropChoiceOption, index, first);
    props().propSetInt(p, kOfxParamPropChoiceOrder, index, index);
    ++index;
  }
  for (const char *option : options) {
    props().propSetString(p, kOfxParamPropChoiceOption, index, option);
    // 1.5 choice order: the stored value of an option never changes (the enums are append-only).
    props().propSetInt(p, kOfxParamPropChoiceOrder, index, index);
    ++index;
  }
  props().propSetInt(p, kOfxParamPropDefault, 0, value);
  props().propSetInt(p, kOfxParamPropAnimates, 0, animates ? 1 : 0);
  return p;
}

OfxPropertySetHandle define_bool(OfxParamSetHandle set, const char *name, const char *label, const char *hint,
                                 bool value) {
  OfxPropertySetHandle p = define(set, kOfxParamTypeBoolean, name, label, hint);
  if (p == nullptr) return nullptr;
  props().propSetInt(p, kOfxParamPropDefault, 0, value ? 1 : 0);
  props().propSetInt(p, kOfxParamPropAnimates, 0, 1);
  return p;
}

OfxPropertySetHandle define_string(OfxParamSetHandle set, const char *name, const char *label, const char *hint,
                                   const char *value, const char *mode) {
  OfxPropertySetHandle p = define(set, kOfxParamTypeString, name, label, hint);
  if (p == nullptr) return nullptr;
  props().propSetString(p, kOfxParamPropDefault, 0, value);
  props().propSetString(p, kOfxParamPropStringMode, 0, mode);
  props().propSetInt(p, kOfxParamPropAnimates, 0, 0);
  return p;
}

OfxStatus define_clip(OfxImageEffectHandle descriptor, const char *name) {
  OfxPropertySetHandle clip = nullptr;
  if (effects().clipDefine(descriptor, name, &clip) != kOfxStatOK || clip == nullptr) return kOfxStatFailed;
  const char *components[] = {kOfxImageComponentRGBA, kOfxImageComponentRGB};
  props().propSetStringN(clip, kOfxImageEffectPropSupportedComponents, 2, components);
  // The warp needs the whole face: whole images, never tiles.
  props().propSetInt(clip, kOfxImageEffectPropSupportsTiles, 0, 0);
  props().propSetInt(clip, kOfxImageClipPropOptional, 0, 0);
  props().propSetInt(clip, kOfxImageClipPropIsMask, 0, 0);
  return kOfxStatOK;
}

}  // namespace

OfxStatus describe(OfxImageEffectHandle descriptor) {
  OfxPropertySetHandle p = nullptr;
  if (effects().getPropertySet(descriptor, &p) != kOfxStatOK || p == nullptr) return kOfxStatErrBadHandle;
  props().propSetString(p, kOfxPropLabel, 0, kPluginLabel);
  props().propSetString(p, kOfxPropShortLabel, 0, kPluginLabel);
  props().propSetString(p, kOfxPropLongLabel, 0, "EmotionEdit: facial emotion");
  props().propSetString(p, kOfxPropPluginDescription, 0, kPluginDescription);
  props().propSetString(p, kOfxImageEffectPluginPropGrouping, 0, kPluginGrouping);
  props().propSetInt(p, kOfxPropVersion, 0, static_cast<int>(kPluginVersionMajor));
  props().propSetInt(p, kOfxPropVersion, 1, static_cast<int>(kPluginVersionMinor));
  props().propSetString(p, kOfxPropVersionLabel, 0, "1.0");

  const char *contexts[] = {kOfxImageEffectContextFilter, kOfxImageEffectContextGeneral};
  props().propSetStringN(p, kOfxImageEffectPropSupportedContexts, 2, contexts);
  const char *depths[] = {kOfxBitDepthByte, kOfxBitDepthShort, kOfxBitDepthHalf, kOfxBitDepthFloat};
  props().propSetStringN(p, kOfxImageEffectPropSupportedPixelDepths, 4, depths);

  props().propSetInt(p, kOfxImageEffectPropSupportsMultipleClipDepths, 0, 0);
  props().propSetInt(p, kOfxImageEffectPropSupportsMultipleClipPARs, 0, 0);
  // The analysis is in full-resolution plate pixels: hosts render at scale 1.
  props().propSetInt(p, kOfxImageEffectPropSupportsMultiResolution, 0, 0);
  props().propSetInt(p, kOfxImageEffectPropSupportsTiles, 0, 0);
  props().propSetInt(p, kOfxImageEffectPropTemporalClipAccess, 0, 0);
  props().propSetInt(p, kOfxImageEffectPluginPropSingleInstance, 0, 0);
  props().propSetInt(p, kOfxImageEffectPropSupportsOverlays, 0, 0);
  // Any instance may render on any thread: all Python runs on the node's one worker thread.
  props().propSetString(p, kOfxImageEffectPluginRenderThreadSafety, 0, kOfxImageEffectRenderFullySafe);
  // A frame is one engine call; splitting it into windows across threads only adds work.
  props().propSetInt(p, kOfxImageEffectPluginPropHostFrameThreading, 0, 0);
  // CUDA images are accepted on the host's stream (see emotionedit/node/gpu.py); CPU everywhere else.
  props().propSetString(p, kOfxImageEffectPropCudaRenderSupported, 0, "true");
  props().propSetString(p, kOfxImageEffectPropCudaStreamSupported, 0, "true");
  return kOfxStatOK;
}

OfxStatus describe_in_context(OfxImageEffectHandle descriptor, OfxPropertySetHandle in_args) {
  (void)in_args;  // filter and general contexts take the same clips
  if (define_clip(descriptor, kOfxImageEffectSimpleSourceClipName) != kOfxStatOK) return kOfxStatFailed;
  if (define_clip(descriptor, kOfxImageEffectOutputClipName) != kOfxStatOK) return kOfxStatFailed;

  OfxParamSetHandle set = nullptr;
  if (effects().getParamSet(descriptor, &set) != kOfxStatOK || set == nullptr) return kOfxStatErrBadHandle;
  using namespace param;

  {
    define_choice(set, kEmotion, "Emotion",
                  "The target emotion (an EMFACS action-unit prototype). Neutral removes "
                  "the actor's own emotion.",
                  kEmotionOptions, 1, true);
  }
  {
    define_double(set, kIntensity, "Intensity",
                  "0 leaves every pixel untouched, 1 is the full prototype, up to 2 exaggerates.", 1.0, 0.0,
                  kMaxIntensity, 1.0, true);
  }
  {
    define_choice(set, kEmotion2, "Emotion 2", "A second emotion to blend with the first (None: only Emotion).",
                  kEmotionOptions, 0, true, kNoEmotion);
  }
  { define_double(set, kBlend, "Blend", "0 = only Emotion, 1 = only Emotion 2.", 0.0, 0.0, 1.0, 1.0, true); }
  {
    define_double(set, kLipPreservation, "Lip Preservation",
                  "1 keeps the source's speech mouth shapes (lip sync); 0 lets the emotion reshape the mouth fully.",
                  1.0, 0.0, 1.0, 1.0, true);
  }
  {
    define_double(set, kSkinDetail, "Skin Detail",
                  "The creases the expression brings, measured on real faces (a smile's folds, raised brows' "
                  "forehead lines), shading the skin: 0 is the warp alone, 1 as deep as this plate shows real creases "
                  "(measured at analysis: soft or flat-lit footage, a webcam, gets them shallower), up to 2.",
                  1.0, 0.0, kMaxSkinDetail, 1.0, true);
  }
  {
    define_choice(set, kMode, "Mode",
                  "Add: the emotion goes on top of the performance. Replace: the actor's own emotion is removed first.",
                  kModeOptions, 0, true);
  }
  {
    OfxPropertySetHandle group = define(set, kOfxParamTypeGroup, kRegionGroup, "Regions",
                                        "Face regions the edit may move; switch parts of the edit off.");
    if (group != nullptr) props().propSetInt(group, kOfxParamPropGroupOpen, 0, 1);
  }
  { set_parent(define_bool(set, kBrows, "Brows", "Edit the brows.", true), kRegionGroup); }
  { set_parent(define_bool(set, kEyes, "Eyes", "Edit the eyes and lids.", true), kRegionGroup); }
  { set_parent(define_bool(set, kCheeks, "Cheeks", "Edit the cheeks.", true), kRegionGroup); }
  { set_parent(define_bool(set, kNose, "Nose", "Edit the nose.", true), kRegionGroup); }
  { set_parent(define_bool(set, kMouth, "Mouth", "Edit the mouth.", true), kRegionGroup); }
  {
    // One value per shot: the engine smooths the whole shot's encoding with it.
    define_double(set, kSmoothing, "Smoothing",
                  "Temporal smoothing of the face encoding, in frames (Gaussian sigma; never on pixels).",
                  kDefaultSmoothing, 0.0, 10.0, 10.0, false);
  }
  {
    define_string(set, kAnalysisFile, "Analysis File",
                  "The shot's analysis from `emotionedit analyze plate -o shot.analysis.npz`. Empty: each frame is "
                  "tracked on its own, at preview quality.",
                  "", kOfxParamStringIsFilePath);
  }
  {
    OfxPropertySetHandle p = define(set, kOfxParamTypeInteger, kFrameOffset, "Frame Offset",
                                    "Added to the host's frame to give the plate's frame number in the analysis "
                                    "(e.g. 1001 when the host counts from 0 and the plate from 1001).");
    if (p != nullptr) {
      props().propSetInt(p, kOfxParamPropDefault, 0, 0);
      props().propSetInt(p, kOfxParamPropMin, 0, -10000000);
      props().propSetInt(p, kOfxParamPropMax, 0, 10000000);
      // Production plates are numbered up to 100000 and beyond: the slider must reach them.
      props().propSetInt(p, kOfxParamPropDisplayMin, 0, -1000000);
      props().propSetInt(p, kOfxParamPropDisplayMax, 0, 1000000);
      props().propSetInt(p, kOfxParamPropAnimates, 0, 0);
    }
  }
  {
    define_string(set, kFace, "Face",
                  "Without an analysis file: which face to follow: largest, an index from the left (0, 1, ...), or "
                  "x,y in pixels from the top left.",
                  "largest", kOfxParamStringIsSingleLine);
  }
  {
    define_choice(set, kOutput, "Output",
                  "Edited picture; the face matte (for compositing); the tracked landmarks (green) and their "
                  "edited positions (red), to check the track; or the occlusion matte (white where a hand in "
                  "front of the face keeps its pixels).",
                  kOutputOptions, 0, false);
  }
  return kOfxStatOK;
}

}  // namespace ee
