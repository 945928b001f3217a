// A minimal OpenFX host for testing the EmotionEdit node the way real hosts drive it.
//
// It loads a bundle as hosts do (dlopen RTLD_LOCAL), implements the suites a filter
// needs, and replays a scene: frames of raw pixels rendered through the real action
// sequence. By default it behaves like MLT (the host Shotcut uses): Load, Describe and
// CreateInstance again for every frame, a fresh instance per frame, frames rendered
// concurrently, rows stored bottom-up with negative row bytes, parameters that animate.
// It also checks what a host cannot see directly: pixels written outside the render
// window, a touched source, images never released.
//
//   ofx_test_host BUNDLE --describe      print the plugin's descriptor as JSON
//   ofx_test_host BUNDLE SCENE           render the scene; one line per event on stdout
//
// Scene lines (# comments):
//   size W H | depth byte|short|half|float | components RGBA|RGB
//   rows negative|positive (negative: MLT's default) | padding BYTES (extra bytes per row)
//   threads N | instances per-frame|shared | identity 0|1 (call IsIdentity first, as Nuke does)
//   reload N (extra Load/Describe/CreateInstance/DestroyInstance cycles before rendering)
//   timeline T (the host's current time: what paramGetValue, which a plugin must not use, answers at)
//   repeat N (render every frame N times; for timing)
//   embed_python LIBPYTHON (the deadlock case: before rendering, load LIBPYTHON RTLD_GLOBAL and initialise it
//   on the main thread, which then holds the GIL while it waits for the render threads, as a host running
//   Python does when a script calls a blocking render from Python - MLT's Consumer.run())
//   cuda 0|1|2 (render with CudaEnabled=1; 1: the images stay host memory, which a test engine module reads
//   back, checking the node's CUDA plumbing without a GPU; 2: the images are in a real device's memory,
//   host_cuda.cpp) | cuda_stream 0|1 (also pass a stream: 1's a fake one, 2's a real one of the host's)
//   premultiplication premultiplied|unpremultiplied|opaque (the images'; default: premultiplied RGBA, opaque RGB)
//   render_window 0 (a broken host: Render without OfxImageEffectPropRenderWindow)
//   late_check 1 (keep every frame's images to the end of the run and report bytes changed after the frame's
//   actions returned: LATE lines; a plugin must never touch a host's images after Render returns)
//   locale NAME (before rendering: setlocale(LC_ALL, NAME), then LC_NUMERIC "C"; LOCALE lines report the
//   process's locale and LC_CTYPE variable then and after the run, which a plugin must leave alone)
//   param NAME VALUE (a constant, a choice label, or MLT-style keys "t=v;t=v", linear between keys)
//   frame TIME SRC.raw OUT.raw [X1 Y1 X2 Y2] (raw: packed rows top-down; "-" = synthetic / don't write)
//   pause SECONDS (between frames: the render thread that takes it sleeps)
//
// Output lines: RENDER, MESSAGE, CLEAR, STANDING (the instance's persistent message after a frame), ROI,
// PREFS, IDENTITY, CHECK, LATE, LOCALE, PYTHON, ERROR, SUMMARY.
//
// Sources: this file (the plugin, the scene, the action sequence, --describe), host.h and
// host_*.cpp (the suites).
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host.h"

namespace testhost {

std::mutex g_out_mutex;

void emit(const std::string &line) {
  std::lock_guard<std::mutex> lock(g_out_mutex);
  std::cout << line << std::endl;
}

std::string one_line(std::string text) {
  for (char &c : text) {
    if (c == '\n') c = '|';
  }
  return text;
}

Scene g_scene;
std::atomic<int> g_live_images{0};
std::atomic<int> g_unknown_suites{0};
thread_local Frame *t_frame = nullptr;
thread_local double t_time = 0.0;

}  // namespace testhost

namespace {

using namespace testhost;

struct Plugin {
  void *library = nullptr;
  OfxPlugin *ofx = nullptr;
  std::mutex lock;  // Load/Describe/CreateInstance come from frame threads in MLT; serialise them

  OfxStatus call(const char *action, const void *handle, PropertySet *in = nullptr, PropertySet *out = nullptr) {
    return ofx->mainEntry(action, handle, in ? H(in) : nullptr, out ? H(out) : nullptr);
  }
};

std::string bundle_binary(const std::string &bundle) {
  std::string name = bundle;
  while (!name.empty() && name.back() == '/') name.pop_back();
  name = name.substr(name.find_last_of('/') + 1);
  name = name.substr(0, name.find(".ofx.bundle"));
  return bundle + "/Contents/Linux-x86-64/" + name + ".ofx";
}

bool load_plugin(Plugin &plugin, const std::string &bundle) {
  const std::string path = bundle_binary(bundle);
  plugin.library = dlopen(path.c_str(), RTLD_LOCAL | RTLD_LAZY);  // what hosts do
  if (plugin.library == nullptr) {
    emit(std::string("ERROR dlopen ") + path + ": " + dlerror());
    return false;
  }
  auto count = reinterpret_cast<OfxGetNumberOfPluginsFunc>(dlsym(plugin.library, "OfxGetNumberOfPlugins"));
  auto get = reinterpret_cast<OfxGetPluginFunc>(dlsym(plugin.library, "OfxGetPlugin"));
  auto set_host = reinterpret_cast<OfxSetHostFunc>(dlsym(plugin.library, "OfxSetHost"));
  if (count == nullptr || get == nullptr || count() < 1) {
    emit("ERROR the bundle exports no OFX plugin");
    return false;
  }
  describe_host();
  if (set_host != nullptr && set_host(&g_host) != kOfxStatOK) {
    emit("ERROR OfxSetHost refused the host");
    return false;
  }
  plugin.ofx = get(0);
  if (plugin.ofx == nullptr || std::strcmp(plugin.ofx->pluginApi, kOfxImageEffectPluginApi) != 0) {
    emit("ERROR plugin 0 is not an image effect");
    return false;
  }
  plugin.ofx->setHost(&g_host);
  return true;
}

// A descriptor: Load, Describe, DescribeInContext(filter).
std::unique_ptr<Effect> describe(Plugin &plugin, OfxStatus *status) {
  auto effect = std::make_unique<Effect>();
  effect->props.kind = "descriptor";
  effect->props.set_string(kOfxPropType, {kOfxTypeImageEffect});
  effect->params.props.kind = "param set";
  *status = plugin.call(kOfxActionLoad, nullptr);
  if (*status != kOfxStatOK && *status != kOfxStatReplyDefault) return nullptr;
  *status = plugin.call(kOfxActionDescribe, effect.get());
  if (*status != kOfxStatOK) return nullptr;
  PropertySet in;
  in.set_string(kOfxImageEffectPropContext, {kOfxImageEffectContextFilter});
  *status = plugin.call(kOfxImageEffectActionDescribeInContext, effect.get(), &in);
  if (*status != kOfxStatOK) return nullptr;
  return effect;
}

// An instance from a descriptor, with the scene's parameter values.
std::unique_ptr<Effect> instantiate(Plugin &plugin, const Effect &descriptor, OfxStatus *status) {
  auto effect = std::make_unique<Effect>();
  effect->props.kind = "instance";
  effect->props.set_string(kOfxPropType, {kOfxTypeImageEffectInstance});
  effect->props.set_string(kOfxImageEffectPropContext, {kOfxImageEffectContextFilter});
  effect->props.set_pointer(kOfxPropInstanceData, nullptr);
  effect->props.set_int(kOfxPropIsInteractive, {0});
  effect->props.set_double(kOfxImageEffectPropProjectSize, {double(g_scene.width), double(g_scene.height)});
  effect->props.set_double(kOfxImageEffectPropFrameRate, {24.0});
  for (const auto &c : descriptor.clips) {
    auto clip = std::make_unique<Clip>();
    clip->name = c->name;
    clip->props.kind = "clip " + c->name;
    clip->props.values = c->props.values;
    clip->props.set_string(kOfxImageEffectPropPixelDepth, {g_scene.depth});
    clip->props.set_string(kOfxImageEffectPropComponents, {g_scene.components});
    clip->props.set_string(kOfxImageEffectPropPreMultiplication, {g_scene.premultiplication_value()});
    clip->props.set_int(kOfxImageClipPropConnected, {1});
    effect->clips.push_back(std::move(clip));
  }
  for (const auto &d : descriptor.params.params) {
    auto p = std::make_unique<Param>();
    p->type = d->type;
    p->name = d->name;
    p->props.values = d->props.values;
    apply_defaults(*p);
    for (const auto &[name, value] : g_scene.params) {
      if (name == p->name) apply_scene_value(*p, value);
    }
    effect->params.params.push_back(std::move(p));
  }
  for (const auto &[name, value] : g_scene.params) {
    if (effect->params.find(name) == nullptr) emit("ERROR the scene sets '" + name + "', which the plugin lacks");
  }
  *status = plugin.call(kOfxActionCreateInstance, effect.get());
  return effect;
}

// ---------------------------------------------------------------- pixels

bool read_file(const std::string &path, std::vector<uint8_t> &out, size_t size) {
  std::ifstream in(path, std::ios::binary);
  out.assign(size, 0);
  return in.read(reinterpret_cast<char *>(out.data()), static_cast<std::streamsize>(size)).gcount() ==
         static_cast<std::streamsize>(size);
}

void synthetic(std::vector<uint8_t> &packed) {
  const int w = g_scene.width, h = g_scene.height, c = g_scene.channels();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int k = 0; k < c; ++k) {
        const size_t i = (static_cast<size_t>(y) * w + x) * c + k;
        if (g_scene.depth == kOfxBitDepthFloat) {
          float v = float(x + y + k) / float(w + h);
          std::memcpy(&packed[i * 4], &v, 4);
        } else if (g_scene.depth == kOfxBitDepthByte) {
          packed[i] = static_cast<uint8_t>(x + y + k);
        } else {
          uint16_t v = g_scene.depth == kOfxBitDepthShort ? uint16_t((x + y + k) * 257) : uint16_t(0x3800);
          std::memcpy(&packed[i * 2], &v, 2);
        }
      }
    }
  }
}

bool prepare_frame(Frame &frame) {
  const long stride = g_scene.stride(), packed_row = long(g_scene.width) * g_scene.pixel_bytes();
  const size_t packed_size = size_t(packed_row) * g_scene.height;
  std::vector<uint8_t> packed;
  if (frame.spec->src == "-") {
    static std::once_flag once;
    static std::vector<uint8_t> pattern;
    std::call_once(once, [&] {
      pattern.assign(packed_size, 0);
      synthetic(pattern);
    });
    packed = pattern;
  } else if (!read_file(frame.spec->src, packed, packed_size)) {
    emit("ERROR cannot read " + std::to_string(packed_size) + " bytes from " + frame.spec->src);
    return false;
  }
  frame.src.assign(size_t(stride) * g_scene.height, 0x5A);
  frame.dst.assign(size_t(stride) * g_scene.height, 0xA5);  // a sentinel: what the plugin must not touch
  for (int r = 0; r < g_scene.height; ++r) {
    std::memcpy(&frame.src[frame.memory_row(r) * stride], &packed[size_t(r) * packed_row], packed_row);
  }
  frame.src_copy = frame.src;
  return true;
}

// late_check: a frame's images after its actions returned, kept to the end of the run.
struct Kept {
  double time;
  std::vector<uint8_t> src, dst;              // the buffers the plugin was given (moved: same addresses)
  std::vector<uint8_t> src_after, dst_after;  // their contents when the frame's actions had returned
};
std::mutex g_kept_mutex;
std::vector<std::unique_ptr<Kept>> g_kept;

void keep(Frame &frame) {
  auto kept = std::make_unique<Kept>();
  kept->time = frame.spec->time;
  kept->src_after = frame.src;
  kept->dst_after = frame.dst;
  kept->src = std::move(frame.src);
  kept->dst = std::move(frame.dst);
  std::lock_guard<std::mutex> lock(g_kept_mutex);
  g_kept.push_back(std::move(kept));
}

long changed_bytes(const std::vector<uint8_t> &now, const std::vector<uint8_t> &then) {
  long n = 0;
  for (size_t i = 0; i < now.size(); ++i) n += now[i] != then[i];
  return n;
}

void report_late_writes() {
  std::lock_guard<std::mutex> lock(g_kept_mutex);
  for (const auto &k : g_kept) {
    emit("LATE time=" + std::to_string(k->time) +
         " src_changed=" + std::to_string(changed_bytes(k->src, k->src_after)) +
         " dst_changed=" + std::to_string(changed_bytes(k->dst, k->dst_after)));
  }
}

// Check the render kept to its window and left the source alone; write the output picture.
void finish_frame(Frame &frame, const OfxRectI &window) {
  const long stride = g_scene.stride(), packed_row = long(g_scene.width) * g_scene.pixel_bytes();
  long outside = 0;
  for (int r = 0; r < g_scene.height; ++r) {
    const int y = g_scene.height - 1 - r;  // OFX y of picture row r
    const uint8_t *row = &frame.dst[frame.memory_row(r) * stride];
    const bool in_rows = y >= window.y1 && y < window.y2;
    const long begin = in_rows ? long(window.x1) * g_scene.pixel_bytes() : stride;
    const long end = in_rows ? long(window.x2) * g_scene.pixel_bytes() : stride;
    for (long b = 0; b < stride; ++b) {
      if ((b < begin || b >= end) && row[b] != 0xA5) ++outside;
    }
  }
  const bool source_intact = frame.src == frame.src_copy;
  emit("CHECK time=" + std::to_string(frame.spec->time) + " outside_window_bytes=" + std::to_string(outside) +
       " source_intact=" + (source_intact ? "1" : "0"));
  if (frame.spec->out == "-") return;
  std::ofstream out(frame.spec->out, std::ios::binary);
  for (int r = 0; r < g_scene.height; ++r) {
    out.write(reinterpret_cast<const char *>(&frame.dst[frame.memory_row(r) * stride]), packed_row);
  }
}

// ---------------------------------------------------------------- the action sequence

void render_frame(Plugin &plugin, Effect *shared, const Scene::FrameSpec &spec, int repeat_index) {
  if (spec.pause > 0.0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(spec.pause));
    return;
  }
  Frame frame;
  frame.spec = &spec;
  if (!prepare_frame(frame)) return;
  t_frame = &frame;
  t_time = spec.time;
  struct Forget {
    ~Forget() { t_frame = nullptr; }
  } forget;  // on every return: the frame lives on this stack
  const std::string at = "time=" + std::to_string(spec.time);

  std::unique_ptr<Effect> descriptor, own;
  Effect *instance = shared;
  if (instance == nullptr) {
    // MLT: Load, Describe, DescribeInContext and CreateInstance for every frame.
    std::lock_guard<std::mutex> lock(plugin.lock);
    OfxStatus status = kOfxStatOK;
    descriptor = describe(plugin, &status);
    if (descriptor == nullptr) {
      emit("RENDER " + at + " status=" + std::to_string(status) + " stage=describe");
      return;
    }
    own = instantiate(plugin, *descriptor, &status);
    if (status != kOfxStatOK) {
      emit("RENDER " + at + " status=" + std::to_string(status) + " stage=create");
      return;
    }
    instance = own.get();
  }

  PropertySet prefs_out;
  plugin.call(kOfxImageEffectActionGetClipPreferences, instance, nullptr, &prefs_out);
  if (const Property *p = prefs_out.find(kOfxImageEffectPropPreMultiplication)) {
    emit("PREFS " + at + " premultiplication=" + (p->s.empty() ? "" : p->s[0]));
  }
  PropertySet rod_in, rod_out, roi_in, roi_out, seq;
  rod_in.set_double(kOfxPropTime, {spec.time});
  rod_in.set_double(kOfxImageEffectPropRenderScale, {1.0, 1.0});
  plugin.call(kOfxImageEffectActionGetRegionOfDefinition, instance, &rod_in, &rod_out);
  OfxRectI window = spec.window_given ? spec.window : OfxRectI{0, 0, g_scene.width, g_scene.height};
  roi_in.set_double(kOfxPropTime, {spec.time});
  roi_in.set_double(kOfxImageEffectPropRenderScale, {1.0, 1.0});
  roi_in.set_double(kOfxImageEffectPropRegionOfInterest,
                    {double(window.x1), double(window.y1), double(window.x2), double(window.y2)});
  plugin.call(kOfxImageEffectActionGetRegionsOfInterest, instance, &roi_in, &roi_out);
  if (const Property *p = roi_out.find(std::string(kOfxImageClipPropRoI_) + kOfxImageEffectSimpleSourceClipName)) {
    emit("ROI " + at + " " + std::to_string(p->d.at(0)) + " " + std::to_string(p->d.at(1)) + " " +
         std::to_string(p->d.at(2)) + " " + std::to_string(p->d.at(3)));
  }
  seq.set_double(kOfxImageEffectPropFrameRange, {spec.time, spec.time});
  seq.set_double(kOfxImageEffectPropFrameStep, {1.0});
  seq.set_int(kOfxPropIsInteractive, {0});
  seq.set_double(kOfxImageEffectPropRenderScale, {1.0, 1.0});
  seq.set_int(kOfxImageEffectPropSequentialRenderStatus, {0});
  seq.set_int(kOfxImageEffectPropInteractiveRenderStatus, {0});
  seq.set_int(kOfxImageEffectPropCudaEnabled, {0});
  plugin.call(kOfxImageEffectActionBeginSequenceRender, instance, &seq);

  bool rendered_by_host = false;
  if (g_scene.identity) {
    PropertySet in, out;
    in.set_double(kOfxPropTime, {spec.time});
    in.set_string(kOfxImageEffectPropFieldToRender, {kOfxImageFieldNone});
    in.set_int(kOfxImageEffectPropRenderWindow, {window.x1, window.y1, window.x2, window.y2});
    in.set_double(kOfxImageEffectPropRenderScale, {1.0, 1.0});
    const OfxStatus s = plugin.call(kOfxImageEffectActionIsIdentity, instance, &in, &out);
    const Property *clip = out.find(kOfxPropName);
    if (s == kOfxStatOK && clip != nullptr && !clip->s.empty()) {
      emit("IDENTITY " + at + " clip=" + clip->s[0]);
      // The host passes the clip through: copy the window from the source.
      const long stride = g_scene.stride(), pb = g_scene.pixel_bytes();
      for (int y = window.y1; y < window.y2; ++y) {
        const long m = frame.memory_row(g_scene.height - 1 - y) * stride;
        std::memcpy(&frame.dst[m + window.x1 * pb], &frame.src[m + window.x1 * pb], (window.x2 - window.x1) * pb);
      }
      emit("RENDER " + at + " status=0 ms=0 repeat=" + std::to_string(repeat_index) + " identity=1");
      rendered_by_host = true;
    }
  }
  if (!rendered_by_host) {
    PropertySet in;
    in.set_double(kOfxPropTime, {spec.time});
    in.set_string(kOfxImageEffectPropFieldToRender, {kOfxImageFieldNone});
    if (g_scene.render_window)
      in.set_int(kOfxImageEffectPropRenderWindow, {window.x1, window.y1, window.x2, window.y2});
    in.set_double(kOfxImageEffectPropRenderScale, {1.0, 1.0});
    in.set_int(kOfxImageEffectPropSequentialRenderStatus, {0});
    in.set_int(kOfxImageEffectPropInteractiveRenderStatus, {0});
    in.set_int(kOfxImageEffectPropRenderQualityDraft, {0});
    in.set_int(kOfxImageEffectPropCudaEnabled, {g_scene.cuda != 0});
    std::string cuda_error;
    if (g_scene.cuda == 2 && !cuda_frame_begin(frame, &cuda_error)) {
      emit("ERROR cuda 2: " + cuda_error);
      cuda_frame_end(frame, &cuda_error);
      return;
    }
    // cuda 1: a recognisable fake cudaStream_t (the test engine checks it arrives unchanged); 2: the host's own.
    if (g_scene.cuda && g_scene.cuda_stream)
      in.set_pointer(kOfxImageEffectPropCudaStream,
                     g_scene.cuda == 2 ? frame.device_stream : reinterpret_cast<void *>(0x5EED));
    const auto start = std::chrono::steady_clock::now();
    const OfxStatus s = plugin.call(kOfxImageEffectActionRender, instance, &in);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (g_scene.cuda == 2 && !cuda_frame_end(frame, &cuda_error)) emit("ERROR cuda 2: " + cuda_error);
    char line[256];
    std::snprintf(line, sizeof line, "RENDER %s status=%d ms=%.4f repeat=%d", at.c_str(), s, ms, repeat_index);
    emit(line);
  }
  plugin.call(kOfxImageEffectActionEndSequenceRender, instance, &seq);
  {
    std::lock_guard<std::mutex> lock(instance->message_mutex);
    emit("STANDING " + at + " text=" + one_line(instance->standing));
  }
  if (own) {
    std::lock_guard<std::mutex> lock(plugin.lock);
    plugin.call(kOfxActionDestroyInstance, own.get());
  }
  finish_frame(frame, window);
  if (g_scene.late_check) keep(frame);
}

bool parse_scene(const std::string &path) {
  std::ifstream in(path);
  if (!in) {
    emit("ERROR cannot read the scene " + path);
    return false;
  }
  Scene &s = g_scene;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    if (!(words >> key) || key[0] == '#') continue;
    if (key == "size")
      words >> s.width >> s.height;
    else if (key == "depth") {
      std::string d;
      words >> d;
      s.depth = d == "byte"    ? kOfxBitDepthByte
                : d == "short" ? kOfxBitDepthShort
                : d == "half"  ? kOfxBitDepthHalf
                               : kOfxBitDepthFloat;
    } else if (key == "components") {
      std::string c;
      words >> c;
      s.components = c == "RGB" ? kOfxImageComponentRGB : kOfxImageComponentRGBA;
    } else if (key == "rows") {
      std::string r;
      words >> r;
      s.negative_rows = r == "negative";
    } else if (key == "padding")
      words >> s.padding;
    else if (key == "threads")
      words >> s.threads;
    else if (key == "instances") {
      std::string m;
      words >> m;
      s.per_frame_instances = m == "per-frame";
    } else if (key == "identity")
      words >> s.identity;
    else if (key == "reload")
      words >> s.reload;
    else if (key == "repeat")
      words >> s.repeat;
    else if (key == "cuda")
      words >> s.cuda;
    else if (key == "cuda_stream")
      words >> s.cuda_stream;
    else if (key == "timeline")
      words >> s.timeline;
    else if (key == "embed_python")
      words >> s.embed_python;
    else if (key == "premultiplication")
      words >> s.premultiplication;
    else if (key == "render_window")
      words >> s.render_window;
    else if (key == "late_check")
      words >> s.late_check;
    else if (key == "locale")
      words >> s.locale;
    else if (key == "pause") {
      Scene::FrameSpec f;
      f.time = -1.0;
      words >> f.pause;
      s.frames.push_back(f);
    } else if (key == "param") {
      std::string name, value;
      words >> name;
      std::getline(words, value);
      value.erase(0, value.find_first_not_of(' '));
      s.params.push_back({name, value});
    } else if (key == "frame") {
      Scene::FrameSpec f;
      words >> f.time >> f.src >> f.out;
      if (words >> f.window.x1 >> f.window.y1 >> f.window.x2 >> f.window.y2) f.window_given = true;
      s.frames.push_back(f);
    } else {
      emit("ERROR unknown scene line: " + line);
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- a host that runs Python

// Load and initialise a Python in this process, as Nuke, Natron or a Python script driving a host do,
// and keep its GIL on the calling (main) thread. No Python headers: the few entry points by name.
bool embed_python(const std::string &libpython) {
  void *library = dlopen(libpython.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (library == nullptr) {
    emit("ERROR cannot load " + libpython + ": " + dlerror());
    return false;
  }
  auto initialise = reinterpret_cast<void (*)(int)>(dlsym(library, "Py_InitializeEx"));
  auto run = reinterpret_cast<int (*)(const char *)>(dlsym(library, "PyRun_SimpleString"));
  auto holds_gil = reinterpret_cast<int (*)()>(dlsym(library, "PyGILState_Check"));
  if (initialise == nullptr || run == nullptr || holds_gil == nullptr) {
    emit("ERROR " + libpython + " lacks Py_InitializeEx, PyRun_SimpleString or PyGILState_Check");
    return false;
  }
  initialise(0);  // no signal handlers; the main thread now holds the GIL, and keeps it
  const int ran = run("import sys, threading\nhost_python = sys.version_info[:2]\n");
  emit("PYTHON library=" + libpython + " ran=" + std::to_string(ran == 0) + " gil_held=" + std::to_string(holds_gil()));
  return ran == 0;
}

// The process's locale (all categories) and LC_CTYPE variable, which a plugin must leave as the host set them.
void report_locale(const char *when) {
  const char *all = std::setlocale(LC_ALL, nullptr);
  const char *ctype = std::getenv("LC_CTYPE");
  emit(std::string("LOCALE when=") + when + " all=" + (all ? all : "(null)") +
       " ctype_env=" + (ctype ? ctype : "(unset)"));
}

// ---------------------------------------------------------------- --describe

std::string json_string(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string json_props(const PropertySet &set) {
  std::string out = "{";
  bool first = true;
  for (const auto &[name, p] : set.values) {
    out += (first ? "" : ",") + json_string(name) + ":[";
    first = false;
    for (int i = 0; i < p.size(); ++i) {
      if (i) out += ",";
      if (p.type == 's')
        out += json_string(p.s[i]);
      else if (p.type == 'd')
        out += std::to_string(p.d[i]);
      else if (p.type == 'i')
        out += std::to_string(p.i[i]);
      else
        out += "null";
    }
    out += "]";
  }
  return out + "}";
}

int describe_mode(Plugin &plugin) {
  OfxStatus status = kOfxStatOK;
  auto effect = describe(plugin, &status);
  if (effect == nullptr) {
    emit("ERROR describe failed with status " + std::to_string(status));
    return 1;
  }
  auto general = std::make_unique<Effect>();
  PropertySet in;
  in.set_string(kOfxImageEffectPropContext, {kOfxImageEffectContextGeneral});
  const OfxStatus general_status = plugin.call(kOfxImageEffectActionDescribeInContext, general.get(), &in);
  std::string out = "{\"identifier\":" + json_string(plugin.ofx->pluginIdentifier) + ",\"version\":[" +
                    std::to_string(plugin.ofx->pluginVersionMajor) + "," +
                    std::to_string(plugin.ofx->pluginVersionMinor) +
                    "],\"api_version\":" + std::to_string(plugin.ofx->apiVersion) +
                    ",\"general_context_status\":" + std::to_string(general_status) +
                    ",\"props\":" + json_props(effect->props) + ",\"clips\":{";
  for (size_t i = 0; i < effect->clips.size(); ++i) {
    out += (i ? "," : "") + json_string(effect->clips[i]->name) + ":" + json_props(effect->clips[i]->props);
  }
  out += "},\"params\":[";
  for (size_t i = 0; i < effect->params.params.size(); ++i) {
    const Param &p = *effect->params.params[i];
    out += std::string(i ? "," : "") + "{\"name\":" + json_string(p.name) + ",\"props\":" + json_props(p.props) + "}";
  }
  out += "]}";
  std::cout << out << std::endl;
  plugin.call(kOfxActionUnload, nullptr);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::cerr << "usage: ofx_test_host BUNDLE (--describe | SCENE)\n";
    return 2;
  }
  Plugin plugin;
  if (!load_plugin(plugin, argv[1])) return 1;
  if (std::string(argv[2]) == "--describe") return describe_mode(plugin);
  if (!parse_scene(argv[2])) return 1;
  if (!g_scene.embed_python.empty() && !embed_python(g_scene.embed_python)) return 1;
  if (!g_scene.locale.empty()) {
    if (std::setlocale(LC_ALL, g_scene.locale.c_str()) == nullptr) {
      emit("ERROR this system has no locale " + g_scene.locale);
      return 1;
    }
    std::setlocale(LC_NUMERIC, "C");  // what MLT insists on
    report_locale("before");
  }

  // Hosts load and describe again and again before rendering (MLT: 17 Loads, 1 Unload).
  for (int i = 0; i < g_scene.reload; ++i) {
    OfxStatus status = kOfxStatOK;
    auto d = describe(plugin, &status);
    if (d == nullptr) {
      emit("ERROR reload describe failed: " + std::to_string(status));
      return 1;
    }
    auto e = instantiate(plugin, *d, &status);
    plugin.call(kOfxActionDestroyInstance, e.get());
  }

  std::unique_ptr<Effect> shared_descriptor, shared;
  if (!g_scene.per_frame_instances) {
    OfxStatus status = kOfxStatOK;
    shared_descriptor = describe(plugin, &status);
    if (shared_descriptor) shared = instantiate(plugin, *shared_descriptor, &status);
    if (!shared || status != kOfxStatOK) {
      emit("ERROR could not create the shared instance: " + std::to_string(status));
      return 1;
    }
  }

  std::vector<std::pair<const Scene::FrameSpec *, int>> work;
  for (int r = 0; r < g_scene.repeat; ++r) {
    for (const auto &f : g_scene.frames) work.push_back({&f, r});
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < std::max(1, g_scene.threads); ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < work.size();) {
        render_frame(plugin, shared.get(), *work[i].first, work[i].second);
      }
    });
  }
  for (auto &t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (shared) plugin.call(kOfxActionDestroyInstance, shared.get());
  plugin.call(kOfxActionUnload, nullptr);
  if (!g_scene.locale.empty()) report_locale("after");
  if (g_scene.late_check) report_late_writes();
  emit("SUMMARY frames=" + std::to_string(work.size()) + " seconds=" + std::to_string(seconds) + " live_images=" +
       std::to_string(g_live_images.load()) + " unknown_suites=" + std::to_string(g_unknown_suites.load()));
  std::fflush(stdout);
  // Skip static destructors: the plugin's worker thread may still be inside Python (a
  // test of a hung engine), which is what a host killing a render would also do.
  std::_Exit(0);
}
