// Which transport this process uses, decided once, on the first render.
//
// In-process is the default: no copies, nothing to start. It is safe only when the
// process has no other Python (another libpython binds our calls to the wrong symbols)
// and nobody runs Python here already (a host thread holding the GIL while it waits for
// a render deadlocks an embedded engine). Everywhere else the engine server is used.
// Either can be forced: EMOTIONEDIT_TRANSPORT, or `transport =` in EmotionEdit.settings.
#include <atomic>

#include "messages.h"
#include "python_guard.h"
#include "transport.h"

namespace ee {

TransportChoice choose_transport(const Settings &settings) {
  if (settings.transport == "server") return {true, "set by " + settings.transport_source};
  if (settings.transport == "in-process") return {false, "set by " + settings.transport_source};
  std::string unknown;
  if (settings.transport != "auto") {
    unknown = "; " + settings.transport_source + " is not one of auto, in-process, server, so it was ignored";
  }
  std::string problem = foreign_python(settings);
  if (problem.empty()) problem = python_already_running();
  if (!problem.empty()) return {true, problem + unknown};
  return {false, "no other Python is loaded or running in this host" + unknown};
}

static std::atomic<Transport *> g_transport{nullptr};

Transport &transport() {
  // Never destroyed: a worker thread may be inside Python, or a server connection in use, at exit.
  static Transport *instance = [] {
    const Settings settings = load_settings();
    const TransportChoice choice = choose_transport(settings);
    log_line(Level::Info, std::string("the engine runs ") + (choice.server ? "in its server process" : "in-process") +
                              " (" + choice.reason + ")");
    Transport *made = choice.server ? make_server_transport(settings, choice.reason).release()
                                    : make_inprocess_transport(settings, choice.reason).release();
    g_transport = made;
    return made;
  }();
  return *instance;
}

Transport *existing_transport() {
  return g_transport.load();
}

}  // namespace ee
