// Render: fetch the images and the parameters at the render time, validate them, hand
// the frame to the transport, and turn its outcome into a status and a message.
#include "render.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "cuda_context.h"
#include "image.h"
#include "instance.h"
#include "messages.h"
#include "ofx_names.h"
#include "suites.h"
#include "transport.h"

namespace ee {

namespace {

// Every parameter at `time` (never paramGetValue: a host may render a frame other than its current one).
std::string read_values(const Instance &instance, OfxTime time, FrameJob &job) {
  for (std::size_t i = 0; i < param::kValueCount; ++i) {
    const param::Spec &spec = param::kValues[i];
    OfxParamHandle handle = instance.values[i];
    if (handle == nullptr) return std::string("the host has no parameter '") + spec.name + "' on this node";
    OfxStatus status = kOfxStatOK;
    switch (spec.kind) {
      case param::Kind::Double: {
        double value = 0.0;
        status = params().paramGetValueAtTime(handle, time, &value);
        job.add_double(spec.name, value);
        break;
      }
      case param::Kind::Int:
      case param::Kind::Bool:
      case param::Kind::Choice: {
        int value = 0;
        status = params().paramGetValueAtTime(handle, time, &value);
        job.add_int(spec.name, value);
        break;
      }
      case param::Kind::String: {
        char *value = nullptr;
        status = params().paramGetValueAtTime(handle, time, &value);
        job.add_string(spec.name, value);
        break;
      }
    }
    if (status != kOfxStatOK) {
      return std::string("the host could not give the value of '") + spec.name + "' (status " + std::to_string(status) +
             ")";
    }
  }
  return "";
}

EEImage to_bridge(const ClipImage &image) {
  EEImage out{};
  out.data = image.data;
  out.x1 = image.bounds.x1;
  out.y1 = image.bounds.y1;
  out.x2 = image.bounds.x2;
  out.y2 = image.bounds.y2;
  out.row_bytes = image.row_bytes;
  return out;
}

OfxStatus fail(OfxImageEffectHandle effect, const std::string &text) {
  show_message(effect, Level::Error, text);
  return kOfxStatFailed;
}

}  // namespace

OfxStatus render(OfxImageEffectHandle effect, OfxPropertySetHandle in_args) {
  Instance *instance = instance_of(effect);
  if (instance == nullptr) return fail(effect, "internal error: render on an instance the node never created");

  OfxTime time = 0.0;
  if (props().propGetDouble(in_args, kOfxPropTime, 0, &time) != kOfxStatOK) {
    return fail(effect, "the host asked for a render without saying at what time (no OfxPropTime)");
  }
  OfxRectI window{0, 0, 0, 0};
  if (props().propGetIntN(in_args, kOfxImageEffectPropRenderWindow, 4, &window.x1) != kOfxStatOK) {
    return fail(effect,
                "the host asked for a render without saying which part of the image to render (no "
                "OfxImageEffectPropRenderWindow); nothing was written");
  }
  double scale[2] = {1.0, 1.0};
  props().propGetDoubleN(in_args, kOfxImageEffectPropRenderScale, 2, scale);
  int cuda = 0;
  if (props().propGetInt(in_args, kOfxImageEffectPropCudaEnabled, 0, &cuda) != kOfxStatOK) cuda = 0;
  void *stream = nullptr;
  if (cuda != 0 && props().propGetPointer(in_args, kOfxImageEffectPropCudaStream, 0, &stream) != kOfxStatOK) {
    stream = nullptr;  // no stream: the engine finishes its work before returning
  }

  ClipImage src(instance->source, time);
  ClipImage dst(instance->output, time);
  std::string problem = src.check(kOfxImageEffectSimpleSourceClipName);
  if (problem.empty()) problem = dst.check(kOfxImageEffectOutputClipName);
  if (!problem.empty()) return fail(effect, problem);
  if (src.depth != dst.depth || src.components != dst.components) {
    return fail(effect, "the Output image (" + dst.depth + ", " + dst.components + ") differs from the Source (" +
                            src.depth + ", " + src.components +
                            "); EmotionEdit writes the source's depth and components");
  }
  // Only the part of the window inside the output image can be written (a window wholly outside it: nothing to do).
  window.x1 = std::max(window.x1, dst.bounds.x1);
  window.y1 = std::max(window.y1, dst.bounds.y1);
  window.x2 = std::min(window.x2, dst.bounds.x2);
  window.y2 = std::min(window.y2, dst.bounds.y2);
  if (window.x1 >= window.x2 || window.y1 >= window.y2) return kOfxStatOK;

  auto job = std::make_shared<FrameJob>();
  job->time = time;
  job->dtype = src.format.dtype;
  job->components = src.format.components;
  job->premultiplication = src.premultiplication;
  job->src = to_bridge(src);
  job->dst = to_bridge(dst);
  job->window[0] = window.x1;
  job->window[1] = window.y1;
  job->window[2] = window.x2;
  job->window[3] = window.y2;
  job->render_scale[0] = scale[0];
  job->render_scale[1] = scale[1];
  job->cuda = cuda != 0;
  job->cuda_stream = stream;
  if (job->cuda) job->cuda_context = current_cuda_context();
  problem = read_values(*instance, time, *job);
  if (!problem.empty()) return fail(effect, problem);

  Transport &engine = transport();
  const Outcome outcome = engine.render(job);
  // The message area always says where the engine runs and why (after any warning or error).
  const std::string note = engine.note();
  if (outcome.level == Level::None || outcome.message.empty()) {
    show_message(effect, Level::Info, note);
  } else {
    show_message(effect, outcome.level, outcome.message, note);
  }
  return outcome.status;
}

OfxStatus regions_of_interest(OfxImageEffectHandle effect, OfxPropertySetHandle in_args,
                              OfxPropertySetHandle out_args) {
  Instance *instance = instance_of(effect);
  if (instance == nullptr || instance->source == nullptr) return kOfxStatReplyDefault;
  OfxTime time = 0.0;
  props().propGetDouble(in_args, kOfxPropTime, 0, &time);
  // The whole source, whatever window is asked for: the warp needs the whole face.
  OfxRectD rod{0, 0, 0, 0};
  if (effects().clipGetRegionOfDefinition(instance->source, time, &rod) != kOfxStatOK) return kOfxStatReplyDefault;
  const std::string name = std::string(kOfxImageClipPropRoI_) + kOfxImageEffectSimpleSourceClipName;
  props().propSetDoubleN(out_args, name.c_str(), 4, &rod.x1);
  return kOfxStatOK;
}

OfxStatus clip_preferences(OfxImageEffectHandle effect, OfxPropertySetHandle out_args) {
  Instance *instance = instance_of(effect);
  // The edit depends on the frame through the analysis, even over a still source.
  props().propSetInt(out_args, kOfxImageEffectFrameVarying, 0, 1);
  if (instance == nullptr || instance->source == nullptr) return kOfxStatOK;
  // Every channel is warped together, so the output keeps the source's premultiplication.
  OfxPropertySetHandle clip = nullptr;
  char *premultiplication = nullptr;
  if (effects().clipGetPropertySet(instance->source, &clip) == kOfxStatOK && clip != nullptr &&
      props().propGetString(clip, kOfxImageEffectPropPreMultiplication, 0, &premultiplication) == kOfxStatOK &&
      premultiplication != nullptr && premultiplication[0] != '\0') {
    props().propSetString(out_args, kOfxImageEffectPropPreMultiplication, 0, premultiplication);
  }
  return kOfxStatOK;
}

// Identity (the host passes the source through and skips Render) only where Render would
// succeed and change nothing: Edited output at intensity 0 or with every region off, and no
// Analysis File. With one, Render must first check it belongs to this clip and covers this
// frame, as the command line does at intensity 0 too; only the engine can read it, so the
// node lets Render do that (the engine then copies the source bit for bit, or says what is
// wrong). When it does claim identity, a message left by an earlier frame is cleared.
OfxStatus is_identity(OfxImageEffectHandle effect, OfxPropertySetHandle in_args, OfxPropertySetHandle out_args) {
  Instance *instance = instance_of(effect);
  if (instance == nullptr) return kOfxStatReplyDefault;
  OfxTime time = 0.0;
  if (props().propGetDouble(in_args, kOfxPropTime, 0, &time) != kOfxStatOK) return kOfxStatReplyDefault;
  // Mirrors EditParams.is_identity: intensity 0 or no region leaves every pixel as it was.
  double intensity = 1.0;
  int output = 0, any_region = 0;
  bool analysis = false;
  for (std::size_t i = 0; i < param::kValueCount; ++i) {
    const param::Spec &spec = param::kValues[i];
    OfxParamHandle handle = instance->values[i];
    if (handle == nullptr) return kOfxStatReplyDefault;
    if (std::strcmp(spec.name, param::kIntensity) == 0) {
      if (params().paramGetValueAtTime(handle, time, &intensity) != kOfxStatOK) return kOfxStatReplyDefault;
    } else if (std::strcmp(spec.name, param::kOutput) == 0) {
      if (params().paramGetValueAtTime(handle, time, &output) != kOfxStatOK) return kOfxStatReplyDefault;
    } else if (std::strcmp(spec.name, param::kAnalysisFile) == 0) {
      char *path = nullptr;
      if (params().paramGetValueAtTime(handle, time, &path) != kOfxStatOK) return kOfxStatReplyDefault;
      analysis = path != nullptr && path[0] != '\0';
    } else if (spec.kind == param::Kind::Bool) {
      int on = 0;
      if (params().paramGetValueAtTime(handle, time, &on) != kOfxStatOK) return kOfxStatReplyDefault;
      any_region |= on;
    }
  }
  if (output != 0 || analysis || (intensity != 0.0 && any_region != 0)) return kOfxStatReplyDefault;
  props().propSetString(out_args, kOfxPropName, 0, kOfxImageEffectSimpleSourceClipName);
  clear_message(effect);  // this frame is fine: an earlier frame's warning or error no longer applies
  return kOfxStatOK;
}

}  // namespace ee
