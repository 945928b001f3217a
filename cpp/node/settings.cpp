#include "settings.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>

namespace ee {

namespace {

std::string parent(const std::string &path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

bool is_dir(const std::string &path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string trim(const std::string &s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

double seconds(const std::string &text, double fallback) {
  if (text.empty()) return fallback;
  char *end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  return (end != text.c_str() && v > 0.0) ? v : fallback;
}

// "in-process", "server" or "auto" for the spellings users write; anything else as given.
std::string transport_name(std::string text) {
  for (char &c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text == "in-process" || text == "inprocess" || text == "in_process") return "in-process";
  if (text == "server" || text == "out-of-process") return "server";
  if (text.empty()) return "auto";
  return text;
}

void join(std::string &list, const std::string &item) {
  if (item.empty()) return;
  list = list.empty() ? item : list + ":" + item;
}

}  // namespace

Settings load_settings() {
  Settings s;
  Dl_info info{};
  // This library's own path: .../X.ofx.bundle/Contents/Linux-x86-64/X.ofx
  if (dladdr(reinterpret_cast<void *>(&load_settings), &info) != 0 && info.dli_fname != nullptr) {
    s.binary_dir = parent(info.dli_fname);
    s.bundle = parent(parent(s.binary_dir));
  }
  const std::string resources = parent(s.binary_dir) + "/Resources";
  s.bridge = s.binary_dir + "/EmotionEditPython.so";

  std::string file_python_path;
  s.settings_file = resources + "/EmotionEdit.settings";
  std::ifstream in(s.settings_file);
  if (!in) s.settings_file.clear();
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "python")
      s.python = value;
    else if (key == "python_path")
      file_python_path = value;
    else if (key == "python_version")
      s.python_version = value;
    else if (key == "libpython")
      s.libpython = value;
    else if (key == "startup_timeout")
      s.startup_timeout = seconds(value, s.startup_timeout);
    else if (key == "render_timeout")
      s.render_timeout = seconds(value, s.render_timeout);
    else if (key == "transport") {
      s.transport = transport_name(value);
      s.transport_source = "transport = " + value + " in " + s.settings_file;
    }
  }

  if (!env("EMOTIONEDIT_PYTHON").empty()) s.python = env("EMOTIONEDIT_PYTHON");
  if (!env("EMOTIONEDIT_NODE_MODULE").empty()) s.module = env("EMOTIONEDIT_NODE_MODULE");
  if (!env("EMOTIONEDIT_SERVER_MODULE").empty()) s.server_module = env("EMOTIONEDIT_SERVER_MODULE");
  if (!env("EMOTIONEDIT_TRANSPORT").empty()) {
    s.transport = transport_name(env("EMOTIONEDIT_TRANSPORT"));
    s.transport_source = "EMOTIONEDIT_TRANSPORT=" + env("EMOTIONEDIT_TRANSPORT");
  }
  if (s.transport == "auto") s.transport_source.clear();
  s.startup_timeout = seconds(env("EMOTIONEDIT_STARTUP_TIMEOUT"), s.startup_timeout);
  s.render_timeout = seconds(env("EMOTIONEDIT_RENDER_TIMEOUT"), s.render_timeout);
  s.timing = !env("EMOTIONEDIT_TIMING").empty() && env("EMOTIONEDIT_TIMING") != "0";
  // Search order: the override, the build's source tree (editable installs), the bundle's own copy.
  join(s.python_path, env("EMOTIONEDIT_PYTHONPATH"));
  join(s.python_path, file_python_path);
  if (is_dir(resources + "/python")) join(s.python_path, resources + "/python");
  return s;
}

std::string engine_python_problem(const Settings &s) {
  if (s.python.empty()) {
    return "no engine environment is configured: " +
           (s.settings_file.empty() ? std::string("the bundle has no Contents/Resources/EmotionEdit.settings")
                                    : s.settings_file + " has no python= line") +
           " and EMOTIONEDIT_PYTHON is not set. Run `make setup` (or `python -m emotionedit.node.install`) in the "
           "EmotionEdit checkout, or set EMOTIONEDIT_PYTHON to the environment's python";
  }
  if (access(s.python.c_str(), X_OK) != 0) {
    return "the engine is missing: the Python " + s.python + " (from EMOTIONEDIT_PYTHON or " + s.settings_file +
           ") does not exist or cannot run. Set EMOTIONEDIT_PYTHON to the python of the environment where "
           "emotionedit is installed (e.g. <checkout>/.venv/bin/python), or re-run `make setup`";
  }
  return "";
}

}  // namespace ee
