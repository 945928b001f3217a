// The in-process transport: the engine runs in this process, in CPython embedded
// through the bridge library, on ONE worker thread the node owns.
//
// Why one worker thread: a host thread that holds the GIL while waiting for our render
// deadlocks any render thread that tries to take it, and CPython has no timed GIL
// acquire. Render threads therefore never touch Python: they queue a job and wait
// with a timeout, so a stuck engine becomes an error message instead of a hung host.
//
// Why two phases per job: a render thread that gives up returns to the host, which then
// frees the images. So a job first prepares without pixels (Python start, imports, the
// analysis file, the editor: the slow, possibly stuck part) and may be abandoned there;
// only then does it take the pixels (tracking and warping: bounded work), and a render
// thread always waits for that phase to end.
#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "cuda_context.h"
#include "ofx_core.h"
#include "python_guard.h"
#include "settings.h"
#include "transport.h"

namespace ee {

namespace {

using Clock = std::chrono::steady_clock;

Outcome failed(const std::string &text, int status = kOfxStatFailed) {
  return {status, Level::Error, text};
}

Outcome from_result(const EEResult &r) {
  Outcome o;
  o.status = r.status;
  o.level = r.level == EE_LEVEL_ERROR ? Level::Error : r.level == EE_LEVEL_WARNING ? Level::Warning : Level::None;
  o.message = r.message;
  return o;
}

std::string format_seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", s);
  return text;
}

class InProcessTransport final : public Transport {
 public:
  InProcessTransport(const Settings &settings, const std::string &reason)
      : settings_(settings), note_("Engine: in-process (" + reason + ")") {
    // Detached on purpose: the worker (and the interpreter it runs) lives as long as the process.
    std::thread([this] { run(); }).detach();
  }

  std::string note() const override { return note_; }

  Outcome render(std::shared_ptr<FrameJob> job) override {
    auto task = std::make_shared<Task>();
    task->job = std::move(job);
    std::unique_lock<std::mutex> lock(mutex_);
    if (!fatal_.empty()) return failed(fatal_);
    queue_.push_back(task);
    work_ready_.notify_one();
    for (;;) {
      const Clock::time_point now = Clock::now();
      switch (task->state) {
        case State::Done:
          return task->outcome;
        case State::Writing:
          // The engine is using the host's pixels: they must outlive it.
          task_changed_.wait(lock);
          break;
        case State::Preparing:
          if (now >= task->deadline) {
            task->state = State::Abandoned;
            return failed(timeout_text(*task));
          }
          task_changed_.wait_until(lock, task->deadline);
          break;
        case State::Queued:
          if (current_ && current_->state != State::Done && now >= current_->deadline) {
            task->state = State::Abandoned;
            return failed("the engine is still busy with an earlier frame that ran past its " +
                          format_seconds(current_->limit) +
                          " limit, so this frame failed without waiting; if this persists, restart the host");
          }
          task_changed_.wait_until(lock, current_ ? current_->deadline : now + std::chrono::seconds(1));
          break;
        case State::Abandoned:
          return failed("internal error: an abandoned frame was waited on");
      }
    }
  }

  void purge() override {
    auto task = std::make_shared<Task>();  // no job: a purge
    std::lock_guard<std::mutex> lock(mutex_);
    if (!fatal_.empty()) return;
    queue_.push_back(task);
    work_ready_.notify_one();
  }

 private:
  enum class State { Queued, Preparing, Writing, Done, Abandoned };

  struct Task {
    std::shared_ptr<FrameJob> job;  // null: purge caches
    State state = State::Queued;
    double limit = 0.0;
    Clock::time_point deadline;
    Outcome outcome;
  };

  std::string timeout_text(const Task &task) const {
    if (!warmed_) {
      return "the engine did not start within " + format_seconds(task.limit) +
             " (starting Python and importing the engine); this frame failed. It goes on "
             "starting in the background: render again in a moment, or raise EMOTIONEDIT_STARTUP_TIMEOUT";
    }
    return "the engine did not finish the frame at time " + std::to_string(task.job->time) + " within " +
           format_seconds(task.limit) +
           "; this frame failed. Raise EMOTIONEDIT_RENDER_TIMEOUT if frames are this slow on this machine";
  }

  void run() {
    for (;;) {
      std::shared_ptr<Task> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        work_ready_.wait(lock, [this] { return !queue_.empty(); });
        task = queue_.front();
        queue_.pop_front();
        if (task->state == State::Abandoned) continue;
        task->state = State::Preparing;
        task->limit = warmed_ ? settings_.render_timeout : settings_.startup_timeout;
        task->deadline =
            Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(task->limit));
        current_ = task;
      }
      task_changed_.notify_all();
      Outcome outcome;
      try {
        outcome = task->job ? execute(*task) : purge_caches();
      } catch (const std::exception &e) {
        outcome = failed(std::string("internal error in the node: ") + e.what());
      } catch (...) {
        outcome = failed("internal error in the node");
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (task->state != State::Abandoned) {
          task->state = State::Done;
          task->outcome = outcome;
        }
        if (task->job && outcome.status == kOfxStatOK) warmed_ = true;
        current_.reset();
      }
      task_changed_.notify_all();
    }
  }

  Outcome purge_caches() {
    if (started_) api_->purge();
    return {};
  }

  Outcome execute(Task &task) {
    if (!started_) {
      Outcome started = start_engine();
      if (started.status != kOfxStatOK) return started;
    }
    const EEFrame &frame = task.job->frame();
    CudaContextScope cuda(task.job->cuda ? task.job->cuda_context : nullptr);
    EEResult result{};
    void *plan = api_->prepare(&frame, &result);
    if (plan == nullptr) return from_result(result);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (task.state == State::Abandoned) {
        api_->release(plan);  // the host has already given up on these pixels
        return failed("abandoned");
      }
      task.state = State::Writing;
    }
    task_changed_.notify_all();
    result = EEResult{};
    api_->render(plan, &frame, &result);
    api_->release(plan);
    return from_result(result);
  }

  void set_fatal(const std::string &text) {
    std::lock_guard<std::mutex> lock(mutex_);
    fatal_ = text;
  }

  // On the worker, once per process (retried after failures that leave nothing behind).
  Outcome start_engine() {
    settings_ = load_settings();  // a settings file fixed since the last try is picked up
    const std::string missing = engine_python_problem(settings_);
    if (!missing.empty()) return failed(missing);
    const std::string mismatch = python_version_mismatch(settings_);
    if (!mismatch.empty()) return failed(mismatch);
    if (api_ == nullptr) {
      const std::string refusal = in_process_refusal(settings_);
      if (!refusal.empty()) {
        set_fatal(refusal);
        return failed(refusal);
      }
      // RTLD_LOCAL: the bridge itself promotes only libpython to global visibility.
      void *library = dlopen(settings_.bridge.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (library == nullptr) {
        const char *why = dlerror();
        return failed("could not load the Python bridge " + settings_.bridge + ": " + (why ? why : "?") +
                      ". Rebuild the node with `make setup`; the bridge needs the shared libpython it was built "
                      "against");
      }
      auto entry = reinterpret_cast<EEBridgeEntry>(dlsym(library, EE_BRIDGE_ENTRY));
      const EEBridgeApi *api = entry != nullptr ? entry() : nullptr;
      if (api == nullptr || api->abi != EE_BRIDGE_ABI) {
        return failed("the Python bridge " + settings_.bridge +
                      " belongs to another build of EmotionEdit; rebuild the node with `make setup`");
      }
      api_ = api;
    }
    EEBridgeConfig config{};
    config.abi = EE_BRIDGE_ABI;
    config.python = settings_.python.c_str();
    config.python_path = settings_.python_path.c_str();
    config.module = settings_.module.c_str();
    EEResult result{};
    const int start = api_->start(&config, &result);
    if (start == EE_START_READY) {
      started_ = true;
      return {};
    }
    if (start == EE_START_FATAL) set_fatal(result.message);
    return from_result(result);
  }

  Settings settings_;  // the worker's (render threads only read the timeouts, fixed at creation)
  const std::string note_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable task_changed_;
  std::deque<std::shared_ptr<Task>> queue_;
  std::shared_ptr<Task> current_;
  std::string fatal_;    // in-process mode is impossible in this process; guarded by mutex_
  bool warmed_ = false;  // a frame has rendered: later frames get the shorter limit; guarded by mutex_
  // Worker-only state.
  const EEBridgeApi *api_ = nullptr;
  bool started_ = false;
};

}  // namespace

std::unique_ptr<Transport> make_inprocess_transport(const Settings &settings, const std::string &reason) {
  return std::make_unique<InProcessTransport>(settings, reason);
}

}  // namespace ee
