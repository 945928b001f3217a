#include "python_guard.h"

#include <dlfcn.h>
#include <link.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace ee {

namespace {

std::string real_path(const std::string &path) {
  char buffer[PATH_MAX];
  return realpath(path.c_str(), buffer) != nullptr ? std::string(buffer) : path;
}

std::string base_name(const std::string &path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int collect(struct dl_phdr_info *info, size_t, void *data) {
  auto *found = static_cast<std::vector<std::string> *>(data);
  if (info->dlpi_name != nullptr && std::strstr(base_name(info->dlpi_name).c_str(), "libpython") != nullptr) {
    found->push_back(info->dlpi_name);
  }
  return 0;
}

constexpr const char *kAdvice =
    "in-process mode is unavailable in this host; let the node run the engine in its server process (unset "
    "EMOTIONEDIT_TRANSPORT, or set transport = auto or server in EmotionEdit.settings)";

std::vector<std::string> loaded_pythons() {
  std::vector<std::string> loaded;
  dl_iterate_phdr(collect, &loaded);
  return loaded;
}

bool initialised(void *is_initialized) {
  return is_initialized != nullptr && reinterpret_cast<int (*)()>(is_initialized)() != 0;
}

}  // namespace

std::string foreign_python(const Settings &settings) {
  const std::string ours = settings.libpython.empty() ? "" : real_path(settings.libpython);
  for (const std::string &library : loaded_pythons()) {
    if (ours.empty() || real_path(library) != ours) {
      return "this host has already loaded another Python (" + library + "; EmotionEdit's is " +
             (ours.empty() ? std::string("unknown") : ours) + ")";
    }
  }
  // A host program linked statically with Python exports the Py* symbols itself.
  if (void *symbol = dlsym(RTLD_DEFAULT, "Py_IsInitialized")) {
    Dl_info info{};
    const std::string owner = dladdr(symbol, &info) != 0 && info.dli_fname != nullptr ? info.dli_fname : "?";
    if (ours.empty() || real_path(owner) != ours) return "this host program contains its own Python (" + owner + ")";
  }
  return "";
}

std::string python_already_running() {
  // Py_IsInitialized only reads a flag: safe on any thread, with or without the GIL.
  for (const std::string &library : loaded_pythons()) {
    void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) continue;
    const bool running = initialised(dlsym(handle, "Py_IsInitialized"));
    dlclose(handle);  // balances this dlopen only: the library stays loaded
    if (running) {
      return "this host already runs Python in its process (" + library +
             "): a host thread may hold Python's lock while it waits for a render";
    }
  }
  if (initialised(dlsym(RTLD_DEFAULT, "Py_IsInitialized"))) {
    return "this host program already runs its own Python: a host thread may hold Python's lock while it waits "
           "for a render";
  }
  return "";
}

std::string in_process_refusal(const Settings &settings) {
  std::string problem = foreign_python(settings);
  if (problem.empty()) problem = python_already_running();
  return problem.empty() ? "" : problem + ": " + kAdvice;
}

std::string python_version_mismatch(const Settings &settings) {
  if (settings.python_version.empty()) return "";
  // A virtual environment records its base Python's version in pyvenv.cfg beside bin/.
  const std::string bin = settings.python.substr(0, settings.python.find_last_of('/'));
  std::ifstream cfg(bin.substr(0, bin.find_last_of('/')) + "/pyvenv.cfg");
  for (std::string line; std::getline(cfg, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    key.erase(key.find_last_not_of(" \t") + 1);
    if (key != "version" && key != "version_info") continue;
    std::string value = line.substr(eq + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    const std::string want = settings.python_version + ".";
    if (value.compare(0, want.size(), want) != 0 && value != settings.python_version) {
      return "the engine environment " + settings.python + " is Python " + value +
             " but this EmotionEdit node was built for Python " + settings.python_version +
             "; rebuild the node with that environment (make setup) or point EMOTIONEDIT_PYTHON at a Python " +
             settings.python_version + " environment";
    }
    return "";
  }
  return "";
}

}  // namespace ee
