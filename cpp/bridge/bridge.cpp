// The Python bridge: CPython embedded through pybind11, driving the engine's node module
// (emotionedit.node). Loaded by the OFX node only after it has checked the process can
// take our Python (see node/python_guard.h), and called only on the node's worker thread.
//
// The interpreter is started once, lazily, and never finalised: numpy, torch and CuPy
// cannot be re-initialised, and hosts unload and reload plugins freely.
#include <dlfcn.h>
#include <link.h>
#include <pybind11/embed.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bridge_api.h"

namespace py = pybind11;

namespace {

struct State {
  bool initialised = false;    // we started the interpreter (never undone)
  PyObject *module = nullptr;  // the node module (a leaked strong reference)
  std::string fatal;           // the interpreter cannot be used in this process
};

State &state() {
  static State *s = new State();  // never destroyed: see above
  return *s;
}

void put(EEResult *r, int status, int level, const std::string &text) {
  r->status = status;
  r->level = level;
  std::strncpy(r->message, text.c_str(), EE_MESSAGE_BYTES - 1);
  r->message[EE_MESSAGE_BYTES - 1] = '\0';
}

constexpr int kOk = 0, kFailed = 1;

std::string real_path(const char *path) {
  char buffer[PATH_MAX];
  return realpath(path, buffer) != nullptr ? std::string(buffer) : std::string(path);
}

int collect_pythons(struct dl_phdr_info *info, size_t, void *data) {
  auto *found = static_cast<std::vector<std::string> *>(data);
  const char *name = info->dlpi_name;
  if (name != nullptr && std::strstr(name, "libpython") != nullptr) found->push_back(real_path(name));
  return 0;
}

// Extension modules (numpy's _multiarray_umath, ...) look up Py* symbols in the global
// scope, but the host loaded us RTLD_LOCAL. Promote our libpython, and only ours.
std::string promote_libpython() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void *>(&Py_IsInitialized), &info) == 0 || info.dli_fname == nullptr) {
    return "cannot locate the libpython this bridge was linked with";
  }
  const std::string ours = real_path(info.dli_fname);
  std::vector<std::string> loaded;
  dl_iterate_phdr(collect_pythons, &loaded);
  for (const std::string &library : loaded) {
    if (library != ours) {
      return "another Python (" + library + ") is loaded in this host besides EmotionEdit's (" + ours +
             "); in-process mode is unavailable in this host";
    }
  }
  if (dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) == nullptr) {
    const char *why = dlerror();
    return std::string("cannot give ") + info.dli_fname + " global visibility: " + (why ? why : "?");
  }
  return "";
}

std::string status_text(const PyStatus &status) {
  std::string text = status.err_msg != nullptr ? status.err_msg : "unknown error";
  if (status.func != nullptr) text = std::string(status.func) + ": " + text;
  return text;
}

// Pre-initialise without touching the host's locale or environment. By default CPython
// sets LC_CTYPE from the environment (setlocale(LC_CTYPE, "")) and, in the C locale,
// coerces it (setenv("LC_CTYPE", "C.UTF-8")): process-wide changes made here, on the
// worker, while host threads run and rely on the locale they chose (MLT and Shotcut
// need LC_NUMERIC "C"). Python's UTF-8 mode gives it UTF-8 file names and text instead.
PyStatus preinitialise() {
  PyPreConfig pre;
  PyPreConfig_InitPythonConfig(&pre);
  pre.configure_locale = 0;  // never setlocale(); also implies no C locale coercion
  pre.coerce_c_locale = 0;   // never setenv("LC_CTYPE", ...)
  pre.coerce_c_locale_warn = 0;
  pre.utf8_mode = 1;        // UTF-8 whatever the host's LC_CTYPE is
  pre.use_environment = 0;  // PYTHONUTF8, PYTHONCOERCECLOCALE: the host's settings, not ours
  pre.parse_argv = 0;
  return Py_PreInitialize(&pre);
}

// Start the interpreter on this (the worker) thread, configured explicitly: the engine's
// virtual environment, no host PYTHONHOME/PYTHONPATH, no signal handlers, the host's
// locale and C stdio left as they are.
std::string initialise(const EEBridgeConfig &config) {
  PyStatus status = preinitialise();
  if (PyStatus_Exception(status)) return "Python could not start: " + status_text(status);
  PyConfig c;
  PyConfig_InitPythonConfig(&c);
  c.install_signal_handlers = 0;  // SIGINT and friends stay the host's
  c.configure_c_stdio = 0;        // the host's stdin/stdout/stderr buffering stays the host's
  c.parse_argv = 0;
  c.use_environment = 0;  // hosts and artists set PYTHONHOME/PYTHONPATH for their own Python
  c.user_site_directory = 0;
  status = PyConfig_SetBytesString(&c, &c.program_name, config.python);
  // With executable = <venv>/bin/python, Python finds pyvenv.cfg and uses the venv's site-packages.
  if (!PyStatus_Exception(status)) status = PyConfig_SetBytesString(&c, &c.executable, config.python);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&c);
  PyConfig_Clear(&c);
  if (PyStatus_Exception(status))
    return "Python could not start from " + std::string(config.python) + ": " + status_text(status);
  state().initialised = true;
  {
    py::gil_scoped_acquire gil;  // re-entrant on the initialising thread
    py::list path = py::module_::import("sys").attr("path");
    std::string folders = config.python_path != nullptr ? config.python_path : "";
    std::vector<std::string> items;
    for (std::size_t start = 0; start <= folders.size();) {
      const std::size_t end = std::min(folders.find(':', start), folders.size());
      if (end > start) items.push_back(folders.substr(start, end - start));
      start = end + 1;
    }
    for (auto it = items.rbegin(); it != items.rend(); ++it) path.insert(0, *it);
  }
  PyEval_SaveThread();  // release the GIL: other Python threads (torch, tqdm) may run between jobs
  return "";
}

// An exception from the node module, described by the module itself when it can.
void describe(const py::error_already_set &error, EEResult *r) {
  try {
    py::object value = error.value();
    // Keep the traceback with the exception, so the module can print where it came from.
    if (error.trace()) PyException_SetTraceback(value.ptr(), error.trace().ptr());
    py::object described = py::reinterpret_borrow<py::object>(state().module).attr("describe_error")(value);
    auto pair = described.cast<std::pair<int, std::string>>();
    // An exception always fails the frame: the output was not (completely) written.
    put(r, pair.first != kOk ? pair.first : kFailed, EE_LEVEL_ERROR, pair.second);
  } catch (const std::exception &e) {
    put(r, kFailed, EE_LEVEL_ERROR, std::string("the engine failed: ") + error.what());
  }
}

// Runs one engine call under the GIL. A Python exception is described by the node module; anything
// else becomes a failed status: nothing may leave the bridge as a C++ exception.
template <class Body>
void call_engine(EEResult *r, Body &&body) {
  try {
    py::gil_scoped_acquire gil;
    try {
      body();
    } catch (const py::error_already_set &e) {
      describe(e, r);
    }
  } catch (const std::exception &e) {
    put(r, kFailed, EE_LEVEL_ERROR, std::string("the Python bridge failed: ") + e.what());
  } catch (...) {
    put(r, kFailed, EE_LEVEL_ERROR, "the Python bridge failed");
  }
}

int start(const EEBridgeConfig *config, EEResult *r) {
  State &s = state();
  try {
    if (config == nullptr || config->abi != EE_BRIDGE_ABI) {
      put(r, kFailed, EE_LEVEL_ERROR, "the node and the Python bridge come from different builds");
      return EE_START_FATAL;
    }
    if (!s.fatal.empty()) {
      put(r, kFailed, EE_LEVEL_ERROR, s.fatal);
      return EE_START_FATAL;
    }
    if (!s.initialised) {
      if (Py_IsInitialized()) {
        s.fatal =
            "this host already runs Python in this process; in-process mode is unavailable in this host (let the "
            "node run the engine in its server process: unset EMOTIONEDIT_TRANSPORT, or set transport = auto or "
            "server in EmotionEdit.settings)";
        put(r, kFailed, EE_LEVEL_ERROR, s.fatal);
        return EE_START_FATAL;
      }
      std::string problem = promote_libpython();
      if (problem.empty()) problem = initialise(*config);
      if (!problem.empty()) {
        s.fatal = problem + "; restart the host after fixing it";
        put(r, kFailed, EE_LEVEL_ERROR, s.fatal);
        return EE_START_FATAL;
      }
    }
    py::gil_scoped_acquire gil;
    try {
      py::module_ module = py::module_::import(config->module);
      s.module = module.release().ptr();
    } catch (const py::error_already_set &e) {
      std::string python = config->python;
      put(r, kFailed, EE_LEVEL_ERROR,
          "the engine could not be imported (module " + std::string(config->module) + " in " + python +
              "): " + e.what() +
              ". Install EmotionEdit in that environment (`make setup`, or `pip install -e .`), or set "
              "EMOTIONEDIT_PYTHON to the environment that has it");
      return EE_START_RETRY;  // the import can be tried again once the environment is fixed
    }
    put(r, kOk, EE_LEVEL_NONE, "");
    return EE_START_READY;
  } catch (const std::exception &e) {
    put(r, kFailed, EE_LEVEL_ERROR, std::string("the Python bridge failed to start: ") + e.what());
  } catch (...) {
    put(r, kFailed, EE_LEVEL_ERROR, "the Python bridge failed to start");
  }
  return EE_START_RETRY;
}

py::tuple rect(const EEImage &image) {
  return py::make_tuple(image.x1, image.y1, image.x2, image.y2);
}

py::dict frame_dict(const EEFrame &f) {
  py::dict values;
  for (int i = 0; i < f.value_count; ++i) {
    const EEValue &v = f.values[i];
    if (v.kind == EE_INT)
      values[v.name] = v.i;
    else if (v.kind == EE_DOUBLE)
      values[v.name] = v.d;
    else
      values[v.name] = py::str(v.s != nullptr ? v.s : "");
  }
  py::dict d;
  d["time"] = f.time;
  d["params"] = values;
  d["dtype"] = f.dtype;
  d["components"] = f.components;
  d["premultiplication"] = f.premultiplication;
  d["src_bounds"] = rect(f.src);
  d["dst_bounds"] = rect(f.dst);
  d["window"] = py::make_tuple(f.window[0], f.window[1], f.window[2], f.window[3]);
  d["render_scale"] = py::make_tuple(f.render_scale[0], f.render_scale[1]);
  d["cuda"] = f.cuda != 0;
  return d;
}

// Geometry of a view, top row first (the engine's plates run top-down; OFX rows run
// bottom-up from bounds.y1, so the top row is the last one and the row step is -row_bytes).
struct View {
  char *top = nullptr;
  py::ssize_t height = 0, width = 0, channels = 0;
  py::ssize_t row_step = 0, pixel_step = 0, item = 0;
};

View view_of(const EEImage &image, const EEFrame &f, const int *window) {
  View v;
  const int x1 = window ? window[0] : image.x1, y1 = window ? window[1] : image.y1;
  const int x2 = window ? window[2] : image.x2, y2 = window ? window[3] : image.y2;
  v.item = py::dtype(f.dtype).itemsize();
  v.channels = f.components;
  v.pixel_step = v.item * v.channels;
  v.height = y2 - y1;
  v.width = x2 - x1;
  v.row_step = -static_cast<py::ssize_t>(image.row_bytes);
  v.top = static_cast<char *>(image.data) + static_cast<py::ssize_t>(y2 - 1 - image.y1) * image.row_bytes +
          static_cast<py::ssize_t>(x1 - image.x1) * v.pixel_step;
  return v;
}

// A zero-copy numpy view of the node's private copies (see bridge_api.h). The capsule owns nothing: the memory outlives
// the call, and the view must not be kept after it (emotionedit.node does not keep it).
py::array host_array(const View &v, const char *dtype, bool writable) {
  py::capsule no_owner(v.top, [](void *) {});
  py::array a(py::dtype(dtype), {v.height, v.width, v.channels}, {v.row_step, v.pixel_step, v.item}, v.top, no_owner);
  if (!writable) a.attr("setflags")(py::arg("write") = false);
  return a;
}

// A CUDA view, for emotionedit.node.gpu to wrap with CuPy: the first element's address,
// shape, strides, and the lowest address and byte span the view covers.
py::dict device_view(const View &v, const char *dtype) {
  const py::ssize_t rows_span = (v.height - 1) * std::abs(v.row_step);
  const auto top = reinterpret_cast<std::uintptr_t>(v.top);
  const std::uintptr_t low = v.row_step < 0 ? top - rows_span : top;
  py::dict d;
  d["ptr"] = top;
  d["low"] = low;
  d["span"] = rows_span + v.width * v.pixel_step;
  d["shape"] = py::make_tuple(v.height, v.width, v.channels);
  d["strides"] = py::make_tuple(v.row_step, v.pixel_step, v.item);
  d["dtype"] = dtype;
  return d;
}

void collect_messages(const py::object &plan, EEResult *r) {
  int level = EE_LEVEL_NONE;
  std::string text;
  for (py::handle item : py::getattr(plan, "messages", py::list())) {
    auto pair = item.cast<std::pair<std::string, std::string>>();
    level = std::max(level, pair.first == "error" ? int(EE_LEVEL_ERROR) : int(EE_LEVEL_WARNING));
    text += (text.empty() ? "" : "\n") + pair.second;
  }
  put(r, kOk, level, text);
}

// A Python ValueError, described by the node module like any exception from the engine.
[[noreturn]] void raise_value_error(const std::string &text) {
  PyErr_SetString(PyExc_ValueError, text.c_str());
  throw py::error_already_set();
}

// A plan's rectangle (None, or 4 integers x1, y1, x2, y2) into `out`; all zeros for None.
void rect_of(const py::object &plan, const char *name, int out[4]) {
  const py::object value = plan.attr(name);
  out[0] = out[1] = out[2] = out[3] = 0;
  if (value.is_none()) return;
  try {
    const auto rect = value.cast<std::array<int, 4>>();
    std::copy(rect.begin(), rect.end(), out);
  } catch (const py::cast_error &) {
    raise_value_error(std::string("the plan's ") + name + " must be None or 4 integers (x1, y1, x2, y2), not " +
                      py::repr(value).cast<std::string>());
  }
}

// What the plan decided for a CPU render: the rectangles of its pixel phase and the window's background.
void regions_of(const py::object &plan, EERegions *regions) {
  rect_of(plan, "read_rect", regions->read);
  rect_of(plan, "write_rect", regions->write);
  const std::string background = py::str(plan.attr("background"));
  if (background != "source" && background != "zero") {
    raise_value_error("the plan's background must be 'source' or 'zero', not '" + background + "'");
  }
  regions->background = background == "zero" ? EE_BACKGROUND_ZERO : EE_BACKGROUND_SOURCE;
}

void *prepare(const EEFrame *frame, EERegions *regions, EEResult *r) {
  py::object *plan = nullptr;
  call_engine(r, [&] {
    py::dict request = frame_dict(*frame);
    if (!frame->cuda) {
      // Preview mode: the node's private copy of the whole source (valid until the plan is released); else None.
      request["source"] = frame->src.data != nullptr
                              ? py::object(host_array(view_of(frame->src, *frame, nullptr), frame->dtype, false))
                              : py::object(py::none());
    }
    py::object made = py::reinterpret_borrow<py::object>(state().module).attr("prepare")(request);
    if (regions != nullptr) regions_of(made, regions);
    collect_messages(made, r);
    plan = new py::object(std::move(made));
  });
  return plan;
}

// CUDA renders: the whole images, in the host's device memory.
int render(void *plan_pointer, const EEFrame *frame, EEResult *r) {
  if (!frame->cuda) {
    put(r, kFailed, EE_LEVEL_ERROR, "internal error: a CPU render reached the CUDA entry of the Python bridge");
    return r->status;
  }
  call_engine(r, [&] {
    const py::object &plan = *static_cast<py::object *>(plan_pointer);
    const View src = view_of(frame->src, *frame, nullptr);
    const View dst = view_of(frame->dst, *frame, frame->window);
    const auto stream = reinterpret_cast<std::uintptr_t>(frame->cuda_stream);
    // host_access(True) -> bool: may the engine use the host's device memory now; host_access(False): done.
    auto gate = frame->host_access;
    void *context = frame->host_access_context;
    py::cpp_function host_access([gate, context](bool enter) {
      if (gate == nullptr) return true;
      py::gil_scoped_release unlocked;  // other Python threads run while this waits for the node's lock
      return gate(context, enter ? 1 : 0) != 0;
    });
    plan.attr("render_cuda")(device_view(src, frame->dtype), device_view(dst, frame->dtype), stream,
                             py::arg("host_access") = host_access);
    collect_messages(plan, r);
  });
  return r->status;
}

// CPU renders, the pixel phase: numpy views of the node's private copies of the two rectangles.
int render_region(void *plan_pointer, const EEFrame *frame, const EEImage *read, const EEImage *write, EEResult *r) {
  call_engine(r, [&] {
    const py::object &plan = *static_cast<py::object *>(plan_pointer);
    py::object src = py::none();
    if (read->data != nullptr) src = host_array(view_of(*read, *frame, nullptr), frame->dtype, false);
    plan.attr("render_region")(src, host_array(view_of(*write, *frame, nullptr), frame->dtype, true));
    collect_messages(plan, r);
  });
  return r->status;
}

void release(void *plan_pointer) {
  try {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object *>(plan_pointer);
  } catch (...) {
  }
}

void purge() {
  try {
    py::gil_scoped_acquire gil;
    py::object module = py::reinterpret_borrow<py::object>(state().module);
    if (module && py::hasattr(module, "purge")) module.attr("purge")();
  } catch (...) {
  }
}

const EEBridgeApi g_api = {EE_BRIDGE_ABI, start, prepare, render, render_region, release, purge};

}  // namespace

extern "C" __attribute__((visibility("default"))) const EEBridgeApi *ee_bridge_api(void) {
  return &g_api;
}
