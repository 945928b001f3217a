#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "shared_memory.h"

extern char **environ;

namespace ee {

const char *const kServerBootstrap =
    "import sys,runpy; p=sys.argv.pop(1); m=sys.argv.pop(1); sys.path[:0]=[d for d in p.split(':') if d]; "
    "runpy.run_module(m, run_name='__main__', alter_sys=True)";

namespace {

constexpr int kListenFd = 3, kLifelineFd = 4;

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

bool private_directory(const std::string &path) {
  struct stat st {};
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
         (st.st_mode & 077) == 0;
}

// A fresh private directory for the socket (its path must fit sockaddr_un).
std::string make_directory(std::string &error) {
  std::vector<std::string> bases;
  if (private_directory(env("XDG_RUNTIME_DIR"))) bases.push_back(env("XDG_RUNTIME_DIR"));
  if (!env("TMPDIR").empty()) bases.push_back(env("TMPDIR"));
  bases.push_back("/tmp");
  for (const std::string &base : bases) {
    std::string path = base + "/emotionedit-XXXXXX";
    if (path.size() + 40 >= sizeof(sockaddr_un::sun_path)) continue;
    if (mkdtemp(path.data()) != nullptr) return path;  // mode 0700
    error = "could not create a private folder in " + base + ": " + std::strerror(errno);
  }
  if (error.empty()) error = "no folder for the engine server's socket has a short enough path (set TMPDIR)";
  return "";
}

std::string parent(const std::string &path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The host's environment without what belongs to the host's own Python and libraries.
std::vector<std::string> server_environment(const Settings &settings) {
  std::vector<std::string> out;
  for (char **e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    if (name.rfind("PYTHON", 0) == 0 || name == "LD_PRELOAD" || name == "LD_LIBRARY_PATH") continue;
    out.push_back(entry);
  }
  if (!settings.libpython.empty()) out.push_back("LD_LIBRARY_PATH=" + parent(settings.libpython));
  return out;
}

std::vector<char *> pointers(std::vector<std::string> &strings) {
  std::vector<char *> out;
  for (std::string &s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// A Unix stream socket (close-on-exec) and the address of `path`; -1 with `error` set on failure.
int unix_socket(const std::string &path, sockaddr_un &address, std::string &error) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) error = std::string("could not create a socket for the engine server: ") + std::strerror(errno);
  address = sockaddr_un{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  return fd;
}

int listening_socket(const std::string &path, std::string &error) {
  sockaddr_un address;
  const int fd = unix_socket(path, address, error);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || chmod(path.c_str(), 0600) != 0 ||
      listen(fd, 64) != 0) {
    error = "could not listen on " + path + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::spawn(const Settings &settings, std::string &error) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->directory_ = make_directory(error);
  if (server->directory_.empty()) return nullptr;
  server->socket_path_ = server->directory_ + "/engine-" + random_hex(8) + ".sock";
  const int listener = listening_socket(server->socket_path_, error);
  int lifeline[2] = {-1, -1};
  if (listener < 0 || pipe2(lifeline, O_CLOEXEC) != 0) {
    if (listener >= 0) {
      error = std::string("could not create the engine server's lifeline: ") + std::strerror(errno);
      close(listener);
    }
    return nullptr;  // the destructor removes the directory
  }
  server->lifeline_ = lifeline[1];
  // Move both descriptors above 3 and 4 first, so placing them at 3 and 4 in the child cannot clobber either.
  const int listen_high = fcntl(listener, F_DUPFD_CLOEXEC, 10);
  const int lifeline_high = fcntl(lifeline[0], F_DUPFD_CLOEXEC, 10);
  close(listener);
  close(lifeline[0]);

  // python -I -c BOOTSTRAP <python path> <server module> <the server's own arguments>
  std::vector<std::string> args = {settings.python,
                                   "-I",
                                   "-c",
                                   kServerBootstrap,
                                   settings.python_path,
                                   settings.server_module,
                                   "--listen-fd",
                                   std::to_string(kListenFd),
                                   "--lifeline-fd",
                                   std::to_string(kLifelineFd),
                                   "--socket",
                                   server->socket_path_,
                                   "--module",
                                   settings.module};
  std::vector<std::string> environment = server_environment(settings);
  std::vector<char *> argv = pointers(args), envp = pointers(environment);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, listen_high, kListenFd);
  posix_spawn_file_actions_adddup2(&files, lifeline_high, kLifelineFd);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  if (fcntl(2, F_GETFD) != -1) {
    posix_spawn_file_actions_adddup2(&files, 2, 1);  // the server's prints go to the host's stderr
  } else {
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU}) {
    sigaddset(&defaults, sig);  // hosts ignore or catch some of these; the server starts clean
  }
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int spawned =
      posix_spawn(&server->pid_, settings.python.c_str(), &files, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  close(listen_high);
  close(lifeline_high);
  if (spawned != 0) {
    server->pid_ = -1;
    error = "could not start the engine server " + settings.python + ": " + std::strerror(spawned);
    return nullptr;
  }
  return server;
}

ServerProcess::~ServerProcess() {
  stop();
}

int ServerProcess::connect(std::string &error) const {
  sockaddr_un address;
  const int fd = unix_socket(socket_path_, address, error);
  if (fd < 0) return -1;
  int result;
  do {
    result = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    error = "could not connect to the engine server at " + socket_path_ + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

bool ServerProcess::ended() {
  if (reaped_ || pid_ <= 0) return true;
  int status = 0;
  const pid_t got = waitpid(pid_, &status, WNOHANG);
  if (got == pid_) {
    reaped_ = status_known_ = true;
    wait_status_ = status;
    return true;
  }
  // ECHILD: the host reaps its children itself (or ignores SIGCHLD); ask whether the process is still there.
  if (got < 0 && errno == ECHILD && kill(pid_, 0) != 0 && errno == ESRCH) {
    reaped_ = true;
    return true;
  }
  return false;
}

std::string ServerProcess::how_it_ended() {
  for (int i = 0; i < 100 && !ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!reaped_) return "stopped answering";
  if (!status_known_) return "ended";
  if (WIFEXITED(wait_status_)) return "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    const int sig = WTERMSIG(wait_status_);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "ended";
}

void ServerProcess::stop() {
  if (pid_ > 0 && !ended()) {
    kill(pid_, SIGKILL);
    // A killed process is reaped at once unless it is stuck in the kernel; never wait long for that.
    for (int i = 0; i < 200 && !ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (lifeline_ >= 0) {
    close(lifeline_);
    lifeline_ = -1;
  }
  if (!socket_path_.empty()) unlink(socket_path_.c_str());
  if (!directory_.empty()) rmdir(directory_.c_str());
  socket_path_.clear();
  directory_.clear();
}

}  // namespace ee
