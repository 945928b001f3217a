// The engine server's process: started by the node, private to the host's user, ended
// with the host.
//
// - A private directory (mkdtemp: mode 0700, a random name) under $XDG_RUNTIME_DIR when
//   that is the user's own, else $TMPDIR or /tmp, holds the control socket (a random
//   name, mode 0600). The node binds and listens on it before the server starts, so a
//   connection never races the server's start; nothing listens on the network.
// - The server inherits the listening socket as fd 3 and the read end of a "lifeline"
//   pipe as fd 4. Only the host process holds the write end (close-on-exec), so the
//   server reads end-of-file and exits when the host ends, however it ends.
// - posix_spawn (safe in a multithreaded host, unlike fork), default signal handlers
//   and an empty signal mask, stdin from /dev/null, stdout onto the host's stderr (a
//   host such as melt may write video to stdout). The environment is the host's minus
//   what belongs to the host's own Python and libraries: PYTHON*, LD_PRELOAD and
//   LD_LIBRARY_PATH (replaced by the engine's libpython folder when known).
// - The interpreter runs isolated (`python -I`); a bootstrap puts the node's python path
//   first on sys.path, as the in-process bridge does, and runs the server module.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "settings.h"

namespace ee {

class ServerProcess {
 public:
  // Start a server; nullptr with `error` set when it cannot be started.
  static std::unique_ptr<ServerProcess> spawn(const Settings &settings, std::string &error);
  ~ServerProcess();  // stop()
  ServerProcess(const ServerProcess &) = delete;
  ServerProcess &operator=(const ServerProcess &) = delete;

  pid_t pid() const { return pid_; }
  const std::string &directory() const { return directory_; }  // its private folder

  // A new connection to the server (close-on-exec); -1 with `error` set on failure.
  int connect(std::string &error) const;

  // Has the process ended? (Reaps it when it has.)
  bool ended();

  // How it ended, for messages: "exited with status 3", "was killed by signal 9 (Killed)".
  std::string how_it_ended();

  // End it now (SIGKILL), reap it (waiting at most a moment) and remove its directory. Idempotent.
  void stop();

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  std::string directory_, socket_path_;
  int lifeline_ = -1;  // the write end, held by the host process only
  bool reaped_ = false;
  int wait_status_ = 0;
  bool status_known_ = false;
};

// The bootstrap `python -I -c` runs (tests/node/server_client.py uses the same text).
extern const char *const kServerBootstrap;

}  // namespace ee
