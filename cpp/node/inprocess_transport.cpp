// The in-process transport: the engine runs in this process, in CPython embedded
// through the bridge, on ONE worker thread the node owns.
//
// Why one worker thread: a host thread that holds the GIL while waiting for our render
// deadlocks any render thread that tries to take it, and CPython has no timed GIL
// acquire. Render threads therefore never touch Python: they queue a job and wait
// with a time limit, so a stuck engine becomes an error message instead of a hung host.
//
// Why private copies: a render thread that gives up returns to the host, which then
// frees the images while the engine may still be working on them. So the engine never
// sees the host's memory. The render thread copies the whole source into a private
// buffer before queueing the job (while the worker may be busy with another frame), the
// engine renders into a private window, and the render thread copies the window into
// the host's image only if the frame finished within its limit. Every step of a job
// (Python start, imports, the analysis file, tracking, the warp) can then be abandoned.
// A CUDA render works on the host's device memory instead; the engine enters and leaves
// its use of it through host_access (bridge_api.h), and a render thread waits for that
// part (stream-ordered copies), never for the engine's own work.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "cuda_context.h"
#include "ofx_core.h"
#include "python_guard.h"
#include "settings.h"
#include "shared_memory.h"
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

// Private pixel buffers, kept for reuse: a 4K float frame is 127 MiB, and fresh memory
// costs a page fault per 4 KiB on its first use.
class BufferPool {
 public:
  using Buffer = std::shared_ptr<std::uint8_t>;

  // A buffer of at least `bytes`; its last owner gives it back. Throws std::bad_alloc.
  Buffer take(std::size_t bytes) {
    std::unique_ptr<std::uint8_t[]> memory;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto best = free_.end();
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->first >= bytes && (best == free_.end() || it->first < best->first)) best = it;
      }
      if (best != free_.end()) {
        bytes = best->first;
        memory = std::move(best->second);
        free_.erase(best);
      }
    }
    if (!memory) memory.reset(new std::uint8_t[std::max<std::size_t>(bytes, 1)]);
    std::uint8_t *data = memory.release();
    return Buffer(data, [this, bytes](std::uint8_t *given) { give_back(given, bytes); });
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.clear();
  }

 private:
  static constexpr std::size_t kKept = 4;  // two render threads' sources and windows

  void give_back(std::uint8_t *data, std::size_t bytes) {
    std::unique_ptr<std::uint8_t[]> memory(data);
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < kKept) free_.emplace_back(bytes, std::move(memory));
  }

  std::mutex mutex_;
  std::vector<std::pair<std::size_t, std::unique_ptr<std::uint8_t[]>>> free_;
};

// A packed buffer (rows top-down, no padding) as an image with OFX's y-up bounds `rect`.
EEImage packed_image(std::uint8_t *data, const int rect[4], std::size_t pixel_bytes) {
  const long long row = static_cast<long long>(rect[2] - rect[0]) * static_cast<long long>(pixel_bytes);
  EEImage image{};
  image.x1 = rect[0];
  image.y1 = rect[1];
  image.x2 = rect[2];
  image.y2 = rect[3];
  image.row_bytes = -row;  // the bottom row (y1) is the last one
  image.data = data + (rect[3] - rect[1] - 1) * row;
  return image;
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
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!fatal_.empty()) return failed(fatal_);
      if (stuck(Clock::now())) return failed(busy_text());  // without copying the frame first
    }
    auto task = std::make_shared<Task>();
    task->owner = this;
    const EEImage host_dst = job->dst;
    if (job->cuda) {
      job->host_access = host_access;
      job->host_access_context = task.get();
    } else {
      try {
        privatise(*job, *task);
      } catch (const std::bad_alloc &) {
        return failed("not enough memory for a private copy of the frame; this frame failed");
      }
    }
    task->job = std::move(job);
    std::unique_lock<std::mutex> lock(mutex_);
    if (!fatal_.empty()) return failed(fatal_);
    queue_.push_back(task);
    work_ready_.notify_one();
    for (;;) {
      const Clock::time_point now = Clock::now();
      switch (task->state) {
        case State::Done: {
          lock.unlock();
          const FrameJob &frame = *task->job;
          if (task->outcome.status == kOfxStatOK && !frame.cuda) {
            // The worker is done with the private window: now, and only now, the host's image is written.
            copy_from_packed(task->dst_copy.get(), host_dst, frame.window, task->pixel_bytes);
          }
          return task->outcome;
        }
        case State::HostMemory:
          // The engine is using the host's device memory (stream-ordered copies): it must outlive that.
          task_changed_.wait(lock);
          break;
        case State::Running:
          if (now >= task->deadline) {
            task->state = State::Abandoned;  // the engine's work goes on, on private memory only
            return failed(timeout_text(*task));
          }
          task_changed_.wait_until(lock, task->deadline);
          break;
        case State::Queued:
          if (stuck(now)) {
            task->state = State::Abandoned;
            // Out of the queue at once: a stuck engine never comes to it, and it holds a copy of the frame.
            const auto queued = std::find(queue_.begin(), queue_.end(), task);
            if (queued != queue_.end()) queue_.erase(queued);
            return failed(busy_text());
          }
          task_changed_.wait_until(lock, current_ ? current_->deadline : now + std::chrono::seconds(1));
          break;
        case State::Abandoned:
          return failed("internal error: an abandoned frame was waited on");
      }
    }
  }

  void purge() override {
    pool_.clear();
    auto task = std::make_shared<Task>();  // no job: a purge
    std::lock_guard<std::mutex> lock(mutex_);
    if (!fatal_.empty()) return;
    queue_.push_back(task);
    work_ready_.notify_one();
  }

 private:
  // Queued -> Running (<-> HostMemory, CUDA only) -> Done, or Abandoned by the render thread
  // (from Queued or Running: never while the engine uses the host's memory).
  enum class State { Queued, Running, HostMemory, Done, Abandoned };

  struct Task {
    InProcessTransport *owner = nullptr;
    std::shared_ptr<FrameJob> job;  // null: purge caches
    State state = State::Queued;
    double limit = 0.0;
    Clock::time_point deadline;
    Outcome outcome;
    // CPU renders: the private source and window the engine works on (alive while the worker holds the task).
    BufferPool::Buffer src_copy, dst_copy;
    std::size_t pixel_bytes = 0;
  };

  // On the render thread: copy the whole source into a private buffer, and point the job at it and at a
  // private window for the engine to render into.
  void privatise(FrameJob &job, Task &task) {
    task.pixel_bytes = job.pixel_bytes();
    const int src_rect[4] = {job.src.x1, job.src.y1, job.src.x2, job.src.y2};
    task.src_copy = pool_.take(packed_bytes(src_rect, task.pixel_bytes));
    task.dst_copy = pool_.take(packed_bytes(job.window, task.pixel_bytes));
    copy_to_packed(job.src, src_rect, task.pixel_bytes, task.src_copy.get());
    job.src = packed_image(task.src_copy.get(), src_rect, task.pixel_bytes);
    job.dst = packed_image(task.dst_copy.get(), job.window, task.pixel_bytes);
  }

  // The bridge's host_access (CUDA): may the engine use the host's device memory now (enter), or is it done.
  static int host_access(void *context, int enter) {
    Task &task = *static_cast<Task *>(context);
    InProcessTransport &self = *task.owner;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      if (enter != 0) {
        if (task.state != State::Running) return 0;  // the render thread has given up: hands off
        task.state = State::HostMemory;
      } else if (task.state == State::HostMemory) {
        task.state = State::Running;
      }
    }
    self.task_changed_.notify_all();
    return 1;
  }

  // The frame the worker is on has run past its limit (it goes on in the background); guarded by mutex_.
  bool stuck(Clock::time_point now) const {
    return current_ && current_->state != State::Done && now >= current_->deadline;
  }

  std::string busy_text() const {
    return "the engine is still busy with an earlier frame that ran past its " + format_seconds(current_->limit) +
           " limit, so this frame failed without waiting; if this persists, restart the host";
  }

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
        task->state = State::Running;
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

  bool abandoned(const Task &task) {
    std::lock_guard<std::mutex> lock(mutex_);
    return task.state == State::Abandoned;
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
    if (plan == nullptr) {
      Outcome outcome = from_result(result);
      if (outcome.status == kOfxStatOK) {
        outcome =
            failed("internal error: the engine prepared nothing for the frame at time " + std::to_string(frame.time) +
                   " and gave no reason" + (outcome.message.empty() ? "" : " (it said: " + outcome.message + ")"));
      }
      return outcome;
    }
    if (abandoned(task)) {
      api_->release(plan);  // nobody waits for this frame any more
      return failed("abandoned");
    }
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
  std::string fatal_;  // in-process mode is impossible in this process; guarded by mutex_
  BufferPool pool_;
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
