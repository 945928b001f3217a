// The test host's shared declarations: the objects behind the OFX handles, the scene
// being replayed, and the suites each host_*.cpp file implements.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ofx_core.h"
#include "ofx_names.h"
#include "ofx_suites.h"
#include "props.h"

namespace testhost {

// One line on stdout, whole (render threads print concurrently).
void emit(const std::string &line);
// Newlines as '|', so a message stays on its line.
std::string one_line(std::string text);

struct Param {
  std::string type, name;
  PropertySet props;
  std::vector<std::pair<double, double>> keys;  // time -> value (numbers, choice indices)
  std::string text;                             // string params
};

struct ParamSet {
  PropertySet props;
  std::vector<std::unique_ptr<Param>> params;
  Param *find(const std::string &name) {
    for (auto &p : params) {
      if (p->name == name) return p.get();
    }
    return nullptr;
  }
};

struct Clip {
  std::string name;
  PropertySet props;
};

struct Frame;

struct Effect {
  PropertySet props;
  ParamSet params;
  std::vector<std::unique_ptr<Clip>> clips;
  // The persistent message the node shows now ("TYPE: text", "" when none), as a user would see it.
  std::mutex message_mutex;
  std::string standing;
  Clip *find(const std::string &name) {
    for (auto &c : clips) {
      if (c->name == name) return c.get();
    }
    return nullptr;
  }
};

struct Scene {
  int width = 64, height = 48;
  std::string depth = kOfxBitDepthByte, components = kOfxImageComponentRGBA;
  bool negative_rows = true;
  int padding = 0;
  int threads = 1;
  bool per_frame_instances = true;
  bool identity = false;
  int reload = 0;
  int repeat = 1;
  int cuda = 0, cuda_stream = 0;
  double timeline = -1000.0;
  std::string premultiplication;  // the images' OfxImageEffectPropPreMultiplication; "" = by components
  bool render_window = true;      // 0: a Render without OfxImageEffectPropRenderWindow (a broken host)
  bool late_check = false;        // keep every frame's images to the end and report writes after Render returned
  std::string locale;             // set before rendering (setlocale LC_ALL, then LC_NUMERIC "C"); reported after
  std::string embed_python;       // a libpython to load and initialise; its GIL stays held while frames render
  std::vector<std::pair<std::string, std::string>> params;
  struct FrameSpec {
    double time;
    std::string src, out;
    bool window_given = false;
    OfxRectI window{0, 0, 0, 0};
    double pause = 0.0;  // not a frame: the render thread sleeps this long (seconds)
  };
  std::vector<FrameSpec> frames;

  int bytes_per_component() const { return depth == kOfxBitDepthByte ? 1 : depth == kOfxBitDepthFloat ? 4 : 2; }
  int channels() const { return components == kOfxImageComponentRGBA ? 4 : 3; }
  int pixel_bytes() const { return bytes_per_component() * channels(); }
  const char *premultiplication_value() const {
    if (premultiplication == "unpremultiplied") return kOfxImageUnPreMultiplied;
    if (premultiplication == "premultiplied") return kOfxImagePreMultiplied;
    if (premultiplication == "opaque") return kOfxImageOpaque;
    return channels() == 4 ? kOfxImagePreMultiplied : kOfxImageOpaque;
  }
  long stride() const { return static_cast<long>(width) * pixel_bytes() + padding; }
};

extern Scene g_scene;
extern std::atomic<int> g_live_images;     // images handed out and not released
extern std::atomic<int> g_unknown_suites;  // suites the plugin asked for that the host lacks

// A frame being rendered: its buffers, in the scene's memory layout.
struct Frame {
  const Scene::FrameSpec *spec = nullptr;
  std::vector<uint8_t> src, dst, src_copy;
  // cuda 2: the images' copies in device memory (the plugin gets these) and the host's stream.
  unsigned long long device_src = 0, device_dst = 0;
  void *device_stream = nullptr;
  // Memory row of a picture row (top row = 0).
  long memory_row(int picture_row) const {
    return g_scene.negative_rows ? picture_row : g_scene.height - 1 - picture_row;
  }
  // The OFX data pointer: bounds.y1 (the bottom row).
  uint8_t *ofx_data(std::vector<uint8_t> &buffer) const {
    return buffer.data() + memory_row(g_scene.height - 1) * g_scene.stride();
  }
  long row_bytes() const { return g_scene.negative_rows ? -g_scene.stride() : g_scene.stride(); }
};

// cuda 2 (host_cuda.cpp): put the frame's images on the device and make a stream; then wait for it, copy the
// images back and free them. False with a message when there is no usable CUDA driver or device.
bool cuda_frame_begin(Frame &frame, std::string *error);
bool cuda_frame_end(Frame &frame, std::string *error);

extern thread_local Frame *t_frame;  // the frame this render thread is on
extern thread_local double t_time;

inline PropertySet *P(OfxPropertySetHandle h) {
  return reinterpret_cast<PropertySet *>(h);
}
inline OfxPropertySetHandle H(PropertySet *p) {
  return reinterpret_cast<OfxPropertySetHandle>(p);
}

// The suites (host_property.cpp, host_param.cpp, host_effect.cpp, host_misc.cpp).
extern const OfxPropertySuiteV1 g_property_suite;
extern const OfxParameterSuiteV1 g_parameter_suite;
extern const OfxImageEffectSuiteV1 g_effect_suite;
extern const OfxMessageSuiteV1 g_message_v1;
extern const OfxMessageSuiteV2 g_message_v2;
extern const OfxMemorySuiteV1 g_memory_suite;
extern const OfxMultiThreadSuiteV1 g_thread_suite;

// The host handed to the plugin, and its description (host_misc.cpp).
extern OfxHost g_host;
void describe_host();

// An instance parameter's value from the scene, or its default (host_param.cpp).
void apply_scene_value(Param &p, const std::string &value);
void apply_defaults(Param &p);

}  // namespace testhost
