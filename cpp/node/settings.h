// Where the engine lives and how long to wait for it. The build (or
// `python -m emotionedit.node.install`) writes Contents/Resources/EmotionEdit.settings in
// the bundle; environment variables override it for one host session:
//   EMOTIONEDIT_PYTHON            the engine environment's python (a venv's bin/python)
//   EMOTIONEDIT_PYTHONPATH        folders put first on sys.path (':'-separated)
//   EMOTIONEDIT_NODE_MODULE       the Python module the node drives (tests and benchmarks)
//   EMOTIONEDIT_TRANSPORT         auto | in-process | server: where the engine runs (see transport.h)
//   EMOTIONEDIT_SERVER_MODULE     the module the engine server runs (tests only)
//   EMOTIONEDIT_STARTUP_TIMEOUT   seconds for the first frame (starts Python, imports the engine)
//   EMOTIONEDIT_RENDER_TIMEOUT    seconds for every later frame
//   EMOTIONEDIT_TIMING            1: one line per in-process CPU frame on stderr, what each step took
#pragma once

#include <string>

namespace ee {

struct Settings {
  std::string bundle;          // .../EmotionEdit.ofx.bundle
  std::string binary_dir;      // .../Contents/Linux-x86-64
  std::string settings_file;   // where the settings were read from ("" if none)
  std::string python;          // interpreter of the engine's environment
  std::string python_path;     // ':'-separated, first on sys.path
  std::string python_version;  // "3.11": what the bridge was compiled against
  std::string libpython;       // the libpython the bridge links (realpath compared with loaded ones)
  std::string module = "emotionedit.node";
  std::string bridge;              // the bridge library's path
  std::string transport = "auto";  // auto | in-process | server (normalised; anything else is kept as given)
  std::string transport_source;    // where a forced transport was set, for messages ("" for auto)
  std::string server_module = "emotionedit.server";
  double startup_timeout = 120.0;
  double render_timeout = 30.0;
  bool timing = false;  // EMOTIONEDIT_TIMING
};

// Read the bundle's settings and the environment (cheap; called on the first render).
Settings load_settings();

// "" when the engine environment's python is configured and can run, else what to do about it.
std::string engine_python_problem(const Settings &settings);

}  // namespace ee
