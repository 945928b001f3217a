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
// sees the host's memory, and every step of a job (Python start, imports, the analysis
// file, tracking, the warp) can be abandoned at the frame's limit. A CPU frame runs in two
// phases on the worker. Prepare plans the frame without pixels (with a private copy of the
// whole source in preview mode, where tracking needs it) and says which rectangles the
// pixel phase reads and writes (regions of interest, in the OFX sense: for a face edit, a
// fraction of the frame). The render thread then copies the source's read rectangle into
// a private buffer; the pixel phase writes the write rectangle into another; and only if
// the frame finished within its limit does the render thread write the host's output: the
// render window's background (the source's pixels: the output's own content, which the
// engine leaves alone) and the write rectangle over it. A pass-through frame (intensity 0,
// no face) costs the window copy alone.
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
#include "messages.h"
#include "ofx_core.h"
#include "pixels.h"
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

// Private pixel buffers, kept for reuse: a 4K float face is tens of MiB (a whole frame, for
// preview tracking, 127 MiB), and fresh memory costs a page fault per 4 KiB on its first use.
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
  static constexpr std::size_t kKept = 4;  // two render threads' read and write rectangles

  void give_back(std::uint8_t *data, std::size_t bytes) {
    std::unique_ptr<std::uint8_t[]> memory(data);
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < kKept) free_.emplace_back(bytes, std::move(memory));
  }

  std::mutex mutex_;
  std::vector<std::pair<std::size_t, std::unique_ptr<std::uint8_t[]>>> free_;
};

class InProcessTransport final : public Transport {
 public:
  InProcessTransport(const Settings &settings, const std::string &reason)
      : settings_(settings), note_("Engine: in-process (" + reason + ")"), timing_(settings.timing) {
    // Detached on purpose: the worker (and the interpreter it runs) lives as long as the process.
    std::thread([this] { run(); }).detach();
  }

  std::string note() const override { return note_; }

  Outcome render(std::shared_ptr<FrameJob> job) override {
    const Clock::time_point started = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!fatal_.empty()) return failed(fatal_);
      if (stuck(Clock::now())) return failed(busy_text());  // without copying the frame first
    }
    auto task = std::make_shared<Task>();
    task->owner = this;
    // The host's images: used on this thread only, and never after this call returns.
    const EEImage host_src = job->src, host_dst = job->dst;
    if (job->cuda) {
      job->host_access = host_access;
      job->host_access_context = task.get();
    } else {
      try {
        hide_host_images(*job, *task);
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
          if (task->outcome.status == kOfxStatOK && !task->job->cuda) {
            // The worker is done with the private memory: now, and only now, the host's image is written.
            write_output(*task, host_src, host_dst);
            if (timing_) log_timing(*task, started);
          }
          return task->outcome;
        }
        case State::Prepared:
          // The engine has planned the frame and waits for the pixels of its read rectangle.
          if (now >= task->deadline) {
            task->state = State::Abandoned;
            task_changed_.notify_all();
            return failed(timeout_text(*task));
          }
          lock.unlock();
          try {
            supply_pixels(*task, host_src);
          } catch (const std::bad_alloc &) {
            lock.lock();
            task->state = State::Abandoned;
            task_changed_.notify_all();
            return failed("not enough memory for a private copy of the frame's pixels; this frame failed");
          }
          lock.lock();
          task->state = State::Running;
          task_changed_.notify_all();
          break;
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
            // Out of the queue at once: a stuck engine never comes to it, and it may hold a copy of the frame.
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
  // Queued -> Running (prepare) [-> Prepared -> Running (pixel phase): CPU] -> Done, or Abandoned by the
  // render thread (from Queued, Running or Prepared: never while the engine uses the host's memory).
  // Running <-> HostMemory on a CUDA render.
  enum class State { Queued, Running, Prepared, HostMemory, Done, Abandoned };

  using Ms = std::chrono::duration<double, std::milli>;

  // What a CPU frame's steps took, in ms (EMOTIONEDIT_TIMING).
  struct Timing {
    double source = 0, prepare = 0, read = 0, pixels = 0, window = 0, write = 0;
  };

  struct Task {
    InProcessTransport *owner = nullptr;
    std::shared_ptr<FrameJob> job;  // null: purge caches
    State state = State::Queued;
    double limit = 0.0;
    Clock::time_point deadline;
    Outcome outcome;
    // CPU renders: what prepare decided (set by the worker before Prepared or Done), and the private memory the
    // engine works on (alive while the worker holds the task).
    EERegions regions{};
    BufferPool::Buffer src_copy;               // preview mode: the whole source
    BufferPool::Buffer read_copy, write_copy;  // the pixel phase's rectangles
    EEImage read{}, write{};
    std::size_t pixel_bytes = 0;
    Timing timing;
  };

  // On the render thread, before queueing: the worker never sees the host's images. Prepare gets no pixels,
  // except in preview mode, where it tracks the frame: then a private copy of the whole source.
  void hide_host_images(FrameJob &job, Task &task) {
    task.pixel_bytes = job.pixel_bytes();
    if (job.preview()) {
      const Clock::time_point start = Clock::now();
      const int src_rect[4] = {job.src.x1, job.src.y1, job.src.x2, job.src.y2};
      task.src_copy = pool_.take(packed_bytes(src_rect, task.pixel_bytes));
      copy_to_packed(job.src, src_rect, task.pixel_bytes, task.src_copy.get());
      job.src = packed_image(task.src_copy.get(), src_rect, task.pixel_bytes);
      task.timing.source = Ms(Clock::now() - start).count();
    } else {
      job.src.data = nullptr;
    }
    job.dst.data = nullptr;
  }

  // On the render thread, once prepared: the pixel phase's private memory, the source's read rectangle in it.
  void supply_pixels(Task &task, const EEImage &host_src) {
    const Clock::time_point start = Clock::now();
    const EERegions &r = task.regions;
    const std::size_t pixel = task.pixel_bytes;
    if (!rect_empty(r.read)) {
      if (task.src_copy) {
        task.read = sub_image(task.job->src, r.read, pixel);  // preview: the whole source is private already
      } else {
        task.read_copy = pool_.take(packed_bytes(r.read, pixel));
        copy_to_packed(host_src, r.read, pixel, task.read_copy.get());
        task.read = packed_image(task.read_copy.get(), r.read, pixel);
      }
    }
    task.write_copy = pool_.take(packed_bytes(r.write, pixel));
    task.write = packed_image(task.write_copy.get(), r.write, pixel);
    task.timing.read = Ms(Clock::now() - start).count();
  }

  // On the render thread, after a frame rendered in time: the window's background, then the engine's rectangle.
  void write_output(Task &task, const EEImage &host_src, const EEImage &host_dst) {
    const FrameJob &job = *task.job;
    const EERegions &r = task.regions;
    const Clock::time_point start = Clock::now();
    fill_window(host_src, host_dst, job.window, r.write, r.background == EE_BACKGROUND_ZERO, task.pixel_bytes);
    const Clock::time_point filled = Clock::now();
    if (!rect_empty(r.write)) copy_from_packed(task.write_copy.get(), host_dst, r.write, task.pixel_bytes);
    task.timing.window = Ms(filled - start).count();
    task.timing.write = Ms(Clock::now() - filled).count();
  }

  void log_timing(const Task &task, Clock::time_point started) const {
    const EERegions &r = task.regions;
    auto size = [](const int rect[4]) {
      return rect_empty(rect) ? std::string("none")
                              : std::to_string(rect[2] - rect[0]) + "x" + std::to_string(rect[3] - rect[1]);
    };
    const Timing &t = task.timing;
    char text[512];
    std::snprintf(text, sizeof text,
                  "timing: time=%g total_ms=%.3f source_copy_ms=%.3f prepare_ms=%.3f read_copy_ms=%.3f "
                  "pixels_ms=%.3f window_copy_ms=%.3f write_copy_ms=%.3f window=%s read=%s write=%s",
                  task.job->time, Ms(Clock::now() - started).count(), t.source, t.prepare, t.read, t.pixels, t.window,
                  t.write, size(task.job->window).c_str(), size(r.read).c_str(), size(r.write).c_str());
    log_line(Level::Info, text);
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
    EERegions regions{};
    Clock::time_point start = Clock::now();
    void *plan = api_->prepare(&frame, frame.cuda ? nullptr : &regions, &result);
    task.timing.prepare = Ms(Clock::now() - start).count();
    if (plan == nullptr) {
      Outcome outcome = from_result(result);
      if (outcome.status == kOfxStatOK) {
        outcome =
            failed("internal error: the engine prepared nothing for the frame at time " + std::to_string(frame.time) +
                   " and gave no reason" + (outcome.message.empty() ? "" : " (it said: " + outcome.message + ")"));
      }
      return outcome;
    }
    const Release release{api_, plan};
    if (abandoned(task)) return failed("abandoned");  // nobody waits for this frame any more
    if (frame.cuda) {
      result = EEResult{};
      api_->render(plan, &frame, &result);
      return from_result(result);
    }
    const std::string wrong = regions_problem(regions, frame);
    if (!wrong.empty()) {
      return failed("internal error: the engine planned the frame at time " + std::to_string(frame.time) + " with " +
                    wrong + "; this frame failed");
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      task.regions = regions;
      if (rect_empty(regions.write)) return from_result(result);  // a pass-through frame: no pixel phase
      if (task.state == State::Abandoned) return failed("abandoned");
      // The render thread copies the read rectangle into private memory (a copy, not the engine's work).
      task.state = State::Prepared;
      task_changed_.notify_all();
      task_changed_.wait(lock, [&] { return task.state != State::Prepared; });
      if (task.state == State::Abandoned) return failed("abandoned");
    }
    result = EEResult{};
    start = Clock::now();
    api_->render_region(plan, &frame, &task.read, &task.write, &result);
    task.timing.pixels = Ms(Clock::now() - start).count();
    return from_result(result);
  }

  // Releases a plan (under the GIL, on the worker) on every way out of execute().
  struct Release {
    const EEBridgeApi *api;
    void *plan;
    ~Release() { api->release(plan); }
  };

  // "" when the plan's rectangles are usable: the read one inside the source, the written one inside the window.
  static std::string regions_problem(const EERegions &r, const EEFrame &frame) {
    auto text = [](const int rect[4]) {
      return "(" + std::to_string(rect[0]) + ", " + std::to_string(rect[1]) + ", " + std::to_string(rect[2]) + ", " +
             std::to_string(rect[3]) + ")";
    };
    const int src[4] = {frame.src.x1, frame.src.y1, frame.src.x2, frame.src.y2};
    if (!rect_empty(r.read) && !rect_inside(r.read, src)) {
      return "a read rectangle " + text(r.read) + " outside the source " + text(src);
    }
    if (!rect_empty(r.write) && !rect_inside(r.write, frame.window)) {
      return "a write rectangle " + text(r.write) + " outside the render window " + text(frame.window);
    }
    return "";
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
  const bool timing_;    // EMOTIONEDIT_TIMING: one line per CPU frame on stderr, what each step took
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
