// The server transport: the engine in a process of its own (server_process.h), for hosts
// where an embedded interpreter is unsafe. One server per host process, shared by every
// instance and render thread; connections to it are pooled, one per render in flight.
//
// A render thread:
//  1. takes an idle connection to the current server, or opens one (HELLO: versions are
//     checked both ways); with no server running (the first frame, or after one died or
//     was stopped) it starts one;
//  2. copies the whole source into the connection's shared-memory segment (a larger
//     segment first when the frame is larger than any before);
//  3. waits its turn: the engine renders one frame at a time, as in-process;
//  4. sends RENDER and waits at most the frame's time limit for the reply;
//  5. copies the render window out into the host's image.
// The server never touches the host's memory, so a render thread can always give up: a
// server that does not answer in time is killed (SIGKILL), one that dies is seen by its
// closed socket; that frame fails with a message, frames waiting behind it fail at once,
// and the next render starts a fresh server. No call here waits without a deadline.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <vector>

#include "cuda_ipc.h"
#include "ofx_core.h"
#include "pixels.h"
#include "server_process.h"
#include "shared_memory.h"
#include "transport.h"
#include "wire.h"

#ifndef EE_VERSION
#error "EE_VERSION (the EmotionEdit version, from python/emotionedit/__init__.py) must be defined by the build"
#endif

namespace ee {

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kRetryAfterFailedStart = 2.0;  // seconds before a server that failed to start is tried again
constexpr std::size_t kAlign = 4096;            // where the window starts in a segment, after the source
constexpr std::size_t kMaxIdleConnections = 16;

Outcome failed(const std::string &text, int status = kOfxStatFailed) {
  return {status, Level::Error, text};
}

wire::Deadline after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

std::string seconds_text(double s) {
  return number_text(s) + " s";
}

// One connection to the server, used by one render thread at a time.
struct Connection {
  explicit Connection(int fd) : fd(fd) {}
  ~Connection() { close(fd); }
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  // Send a message and wait for its reply, both before `deadline`.
  wire::Io exchange(std::uint16_t kind, const wire::Fields &fields, int pass_fd, wire::Deadline deadline,
                    wire::Message &reply, std::string &error) {
    const std::uint32_t request = next_request++;
    wire::Io io = wire::send(fd, kind, request, fields, pass_fd, deadline, error);
    if (io == wire::Io::Ok) io = wire::receive(fd, reply, deadline, error);
    if (io == wire::Io::Ok && reply.kind != wire::kError && reply.request != request) {
      error = "a reply to request " + std::to_string(reply.request) + " came for request " + std::to_string(request);
      io = wire::Io::Failed;
    }
    return io;
  }

  int fd;
  std::unique_ptr<Segment> segment;
  std::uint32_t next_request = 1;
};

// One server process and the connections to it.
struct Server {
  std::unique_ptr<ServerProcess> process;  // guarded by process_mutex (reaping, killing)
  std::mutex process_mutex;
  pid_t pid = -1;
  std::string label;  // "the engine server (pid N)"
  // Guarded by the transport's mutex:
  std::vector<std::unique_ptr<Connection>> idle;
  bool stopped = false;     // dead or killed: never used again
  std::string why_stopped;  // the first account of it
  bool warmed = false;      // has rendered a frame: later frames get the render limit
};

std::string hello_problem(const wire::Message &reply, const std::string &python) {
  if (reply.kind == wire::kError) return reply.text("message", "the engine server refused the node");
  const long long protocol = reply.integer("protocol", -1);
  if (reply.kind != wire::kHello || reply.protocol != wire::kProtocol || protocol != wire::kProtocol) {
    return "the engine server in " + python + " speaks engine protocol " + std::to_string(reply.protocol) +
           " but this EmotionEdit node speaks protocol " + std::to_string(wire::kProtocol) +
           ": they come from different EmotionEdit versions. Rebuild the node from the engine's checkout (`make "
           "ofx`) or point EMOTIONEDIT_PYTHON at the environment the node was built with";
  }
  const std::string version = reply.text("version");
  if (version != EE_VERSION) {
    return "this EmotionEdit node is version " + std::string(EE_VERSION) + " but the engine server in " + python +
           " runs EmotionEdit " + version +
           "; node and engine must be the same version. Rebuild the node from the engine's checkout (`make ofx`), "
           "or point EMOTIONEDIT_PYTHON at the environment the node was built with";
  }
  return "";
}

Outcome outcome_of(const wire::Message &reply) {
  Outcome o;
  o.status = static_cast<int>(reply.integer("status", kOfxStatFailed));
  const long long level = reply.integer("level", EE_LEVEL_ERROR);
  o.level = level == EE_LEVEL_ERROR ? Level::Error : level == EE_LEVEL_WARNING ? Level::Warning : Level::None;
  o.message = reply.text("message");
  return o;
}

wire::Fields frame_fields(const FrameJob &job) {
  wire::Fields f;
  f.put("time", job.time);
  f.put("dtype", job.dtype);
  f.put("components", static_cast<long long>(job.components));
  f.put("premultiplication", job.premultiplication);
  f.put_ints("src_bounds", {job.src.x1, job.src.y1, job.src.x2, job.src.y2});
  f.put_ints("dst_bounds", {job.dst.x1, job.dst.y1, job.dst.x2, job.dst.y2});
  f.put_ints("window", {job.window[0], job.window[1], job.window[2], job.window[3]});
  f.put_doubles("render_scale", {job.render_scale[0], job.render_scale[1]});
  f.put("cuda", static_cast<long long>(job.cuda ? 1 : 0));
  for (const EEValue &v : job.values()) {
    const std::string name = std::string("p:") + v.name;
    if (v.kind == EE_INT)
      f.put(name, v.i);
    else if (v.kind == EE_DOUBLE)
      f.put(name, v.d);
    else
      f.put(name, std::string(v.s != nullptr ? v.s : ""));
  }
  return f;
}

class ServerTransport final : public Transport {
 public:
  ServerTransport(const Settings &settings, const std::string &reason) : settings_(settings), reason_(reason) {}

  std::string note() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string pid = current_ ? " " + std::to_string(current_->pid) : "";
    return "Engine: server process" + pid + " (" + reason_ + ")";
  }

  void purge() override { purge_ = true; }  // sent with the next frame: purging must not wait

  Outcome render(std::shared_ptr<FrameJob> job) override {
    std::shared_ptr<Server> server;
    std::unique_ptr<Connection> connection;
    Outcome outcome = connect(server, connection);
    if (outcome.status != kOfxStatOK) return outcome;

    const FrameJob &frame = *job;
    wire::Fields fields = frame_fields(frame);
    const std::size_t pixel = frame.pixel_bytes();
    const int src_rect[4] = {frame.src.x1, frame.src.y1, frame.src.x2, frame.src.y2};
    const std::size_t dst_offset = (packed_bytes(src_rect, pixel) + kAlign - 1) / kAlign * kAlign;
    CudaExport cuda;  // destroyed after the reply: the server is done with its event then
    if (frame.cuda) {
      const std::string problem = cuda.prepare(frame, fields);
      if (!problem.empty()) {
        give_back(server, std::move(connection));
        return failed("CUDA render unavailable through the engine server: " + problem +
                          "; the host can render this node on the CPU",
                      kOfxStatGPURenderFailed);
      }
    } else {
      outcome = fit_segment(server, *connection, dst_offset + packed_bytes(frame.window, pixel));
      if (outcome.status != kOfxStatOK) return outcome;
      copy_to_packed(frame.src, src_rect, pixel, connection->segment->data());
      fields.put("src_offset", 0LL);
      fields.put("dst_offset", static_cast<long long>(dst_offset));
    }
    double limit = 0.0;
    const char *limit_setting = nullptr;
    outcome = take_turn(server, limit, limit_setting);
    if (outcome.status != kOfxStatOK) return outcome;
    if (purge_.exchange(false)) fields.put("purge", 1LL);
    wire::Message reply;
    std::string error;
    const wire::Io io = connection->exchange(wire::kRender, fields, -1, after(limit), reply, error);
    if (io != wire::Io::Ok) {
      outcome = lose(server, io, error, "rendering the frame at time " + number_text(frame.time),
                     "Raise " + std::string(limit_setting) + " if frames are this slow on this machine", limit);
      end_turn();
      return outcome;
    }
    end_turn();
    if (reply.kind != wire::kRender) {
      return failed("the engine server refused the frame: " + reply.text("message", "(no reason given)"));
    }
    outcome = outcome_of(reply);
    if (outcome.status == kOfxStatOK) {
      if (!frame.cuda) copy_from_packed(connection->segment->data() + dst_offset, frame.dst, frame.window, pixel);
      std::lock_guard<std::mutex> lock(mutex_);
      server->warmed = true;  // later frames get the render limit
    }
    give_back(server, std::move(connection));
    return outcome;
  }

 private:
  // A live server and a greeted connection to it, starting the server if none runs.
  Outcome connect(std::shared_ptr<Server> &server, std::unique_ptr<Connection> &connection) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_lock<std::mutex> lock(mutex_);
      // Another render thread is starting the server: wait for it (starting has its own deadline).
      if (!started_.wait_until(lock, after(settings_.startup_timeout + 10.0), [this] { return !starting_; })) {
        return failed("the engine server is still starting after " + seconds_text(settings_.startup_timeout) +
                      "; this frame failed");
      }
      if (!current_) {
        if (!start_failure_.empty() && Clock::now() < retry_at_) return failed(start_failure_);
        starting_ = true;
        lock.unlock();
        std::string failure;
        std::shared_ptr<Server> fresh = start(connection, failure);
        lock.lock();
        starting_ = false;
        started_.notify_all();
        if (!fresh) {
          start_failure_ = failure;
          retry_at_ = after(kRetryAfterFailedStart);
          return failed(failure);
        }
        start_failure_.clear();
        current_ = server = fresh;
        return {};
      }
      server = current_;
      if (!server->idle.empty()) {
        connection = std::move(server->idle.back());
        server->idle.pop_back();
        if (!wire::idle_connection_broken(connection->fd)) return {};
        // The server went away between frames: not this frame's fault; start a fresh one.
        connection.reset();
        lock.unlock();
        retire(server, "", "waiting between frames");
        continue;
      }
      lock.unlock();
      std::string problem = greet(*server, settings_.render_timeout, connection);
      if (problem.empty()) return {};
      problem = retire(server, problem, "");
      return failed(problem + "; this frame failed, and the next frame starts a fresh engine server");
    }
    return failed("the engine server stopped again as soon as it was reached; this frame failed");
  }

  // Start a server and open its first connection; nullptr with `failure` set if it cannot be used.
  std::shared_ptr<Server> start(std::unique_ptr<Connection> &connection, std::string &failure) {
    const Settings launch = load_settings();  // a settings file fixed since the last try is picked up
    failure = engine_python_problem(launch);
    if (!failure.empty()) return nullptr;
    auto server = std::make_shared<Server>();
    server->process = ServerProcess::spawn(launch, failure);
    if (!server->process) return nullptr;
    server->pid = server->process->pid();
    server->label = "the engine server (pid " + std::to_string(server->pid) + ")";
    log_line(Level::Info, "started the engine server (pid " + std::to_string(server->pid) + ", socket in " +
                              server->process->directory() + "): " + launch.python + " running " +
                              launch.server_module);
    failure = greet(*server, settings_.startup_timeout, connection);
    if (failure.empty()) return server;
    std::lock_guard<std::mutex> lock(server->process_mutex);
    server->process->stop();
    return nullptr;
  }

  // Open a connection and exchange HELLO; "" on success, else why the server cannot be used.
  std::string greet(Server &server, double limit, std::unique_ptr<Connection> &connection) {
    std::string error;
    int fd;
    {
      std::lock_guard<std::mutex> lock(server.process_mutex);
      fd = server.process->connect(error);
    }
    if (fd < 0) return error;
    auto opened = std::make_unique<Connection>(fd);
    wire::Fields hello;
    hello.put("protocol", static_cast<long long>(wire::kProtocol));
    hello.put("version", std::string(EE_VERSION));
    hello.put("pid", static_cast<long long>(getpid()));
    wire::Message reply;
    const wire::Io io = opened->exchange(wire::kHello, hello, -1, after(limit), reply, error);
    if (io == wire::Io::Timeout) {
      return server.label + " did not start within " + seconds_text(limit) + " (starting Python and importing the " +
             "engine in " + settings_.python + "). Raise EMOTIONEDIT_STARTUP_TIMEOUT if the engine is this slow to " +
             "start on this machine";
    }
    if (io == wire::Io::Closed) {
      std::lock_guard<std::mutex> lock(server.process_mutex);
      return server.label + " " + server.process->how_it_ended() +
             " while starting; its messages are on the host's terminal (stderr)";
    }
    if (io == wire::Io::Failed) return server.label + " answered with something unreadable: " + error;
    const std::string problem = hello_problem(reply, settings_.python);
    if (!problem.empty()) return problem;
    connection = std::move(opened);
    return "";
  }

  // Make the connection's segment hold `bytes` (a new, larger one if needed; sized to the largest frame seen).
  Outcome fit_segment(const std::shared_ptr<Server> &server, Connection &connection, std::size_t bytes) {
    if (connection.segment && connection.segment->size() >= bytes) return {};
    std::string error;
    std::unique_ptr<Segment> segment = Segment::create(std::max(bytes, largest_.load()), error);
    if (!segment) return failed(error);
    wire::Fields fields;
    fields.put("size", static_cast<long long>(segment->size()));
    wire::Message reply;
    const wire::Io io =
        connection.exchange(wire::kSegment, fields, segment->fd(), after(settings_.render_timeout), reply, error);
    if (io != wire::Io::Ok) {
      return lose(server, io, error, "taking the frame's shared memory",
                  "Raise EMOTIONEDIT_RENDER_TIMEOUT if this machine is this slow", settings_.render_timeout);
    }
    if (reply.kind != wire::kSegment) {
      return failed("the engine server refused the frame's shared memory: " + reply.text("message", "?"));
    }
    std::size_t largest = largest_.load();
    while (segment->size() > largest && !largest_.compare_exchange_weak(largest, segment->size())) {
    }
    connection.segment = std::move(segment);
    return {};
  }

  Outcome take_turn(const std::shared_ptr<Server> &server, double &limit, const char *&limit_setting) {
    std::unique_lock<std::mutex> lock(mutex_);
    // The frame holding the turn has a deadline and stops the server when it passes; the extra
    // margin only guards against a bug here turning into a hung host thread.
    const bool free = turn_changed_.wait_until(lock, busy_until_ + std::chrono::seconds(15),
                                               [&] { return !busy_ || server->stopped; });
    if (!free) return failed("the engine is still busy with an earlier frame past its limit; this frame failed");
    if (server->stopped) {
      return failed("the engine server stopped while this frame waited for it (" + server->why_stopped +
                    "); this frame failed without waiting, and the next frame starts a fresh engine server");
    }
    busy_ = true;
    limit = server->warmed ? settings_.render_timeout : settings_.startup_timeout;
    busy_until_ = after(limit);
    limit_setting = server->warmed ? "EMOTIONEDIT_RENDER_TIMEOUT" : "EMOTIONEDIT_STARTUP_TIMEOUT";
    return {};
  }

  void end_turn() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
    }
    turn_changed_.notify_all();
  }

  // An exchange with the server failed: stop the server and say what happened.
  Outcome lose(const std::shared_ptr<Server> &server, wire::Io io, const std::string &error, const std::string &doing,
               const std::string &timeout_advice, double limit) {
    std::string cause, advice = " Its messages, if any, are on the host's terminal (stderr).";
    if (io == wire::Io::Timeout) {
      cause = server->label + " did not finish " + doing + " within " + seconds_text(limit) + ", so it was stopped";
      advice = " " + timeout_advice + ".";
    } else if (io == wire::Io::Failed) {
      cause = server->label + " broke the protocol during " + doing + " (" + error + "), so it was stopped";
    }
    const std::string why = retire(server, cause, doing);
    return failed(why + "; this frame failed, and the next frame starts a fresh engine server." + advice);
  }

  // Stop a server for good: no frame uses it again and the next render starts a fresh one.
  // cause: why, or "" when it died on its own (then how it ended, and `doing` at the time).
  // Returns the first account of its end.
  std::string retire(const std::shared_ptr<Server> &server, std::string cause, const std::string &doing) {
    if (cause.empty()) {
      std::lock_guard<std::mutex> lock(server->process_mutex);
      cause = server->label + " " + server->process->how_it_ended() + (doing.empty() ? "" : " while " + doing);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!server->stopped) {
        server->stopped = true;
        server->why_stopped = cause;
        log_line(Level::Error, cause);
      }
      server->idle.clear();
      if (current_ == server) current_.reset();
    }
    turn_changed_.notify_all();
    {
      std::lock_guard<std::mutex> lock(server->process_mutex);
      server->process->stop();  // kills it if it still runs, reaps it, removes its folder
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return server->why_stopped;
  }

  void give_back(const std::shared_ptr<Server> &server, std::unique_ptr<Connection> connection) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!server->stopped && server->idle.size() < kMaxIdleConnections) server->idle.push_back(std::move(connection));
  }

  const Settings settings_;  // the timeouts and the python named in messages, fixed at creation
  const std::string reason_;
  mutable std::mutex mutex_;
  std::condition_variable started_, turn_changed_;
  std::shared_ptr<Server> current_;
  bool starting_ = false;
  std::string start_failure_;
  wire::Deadline retry_at_{};
  bool busy_ = false;  // a frame is at the engine
  wire::Deadline busy_until_{};
  std::atomic<bool> purge_{false};
  std::atomic<std::size_t> largest_{0};  // the largest segment made: new connections start that large
};

}  // namespace

std::unique_ptr<Transport> make_server_transport(const Settings &settings, const std::string &reason) {
  return std::make_unique<ServerTransport>(settings, reason);
}

}  // namespace ee
