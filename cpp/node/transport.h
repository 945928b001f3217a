// How a render reaches the engine. The node talks to a Transport, one per process,
// chosen on the first render (transport_choice.cpp):
//   - in-process (inprocess_transport.cpp): CPython embedded through the bridge, on one
//     worker thread; the engine plans the frame, then works on private copies of the
//     rectangles it asked for;
//   - server (server_transport.cpp): the same engine in a process of its own, frames
//     through shared memory; for hosts that run their own Python (Nuke, Natron, scripts
//     driving a host), where an embedded interpreter is unsafe.
// Both run the same node module on the same pixels and render bit-identical frames.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "../bridge/bridge_api.h"
#include "messages.h"
#include "settings.h"

namespace ee {

// One frame's work. Owns copies of every string and value it points to, because a
// render thread that times out returns to the host while the job may still be queued
// or preparing on the worker.
class FrameJob {
 public:
  double time = 0.0;
  std::string dtype;
  int components = 0;
  std::string premultiplication;
  EEImage src{};
  EEImage dst{};
  int window[4] = {0, 0, 0, 0};
  double render_scale[2] = {1.0, 1.0};
  bool cuda = false;
  void *cuda_stream = nullptr;
  void *cuda_context = nullptr;  // the host thread's current CUDA context
  // CUDA, in-process: the gate around the engine's use of the host's device memory (bridge_api.h).
  int (*host_access)(void *context, int enter) = nullptr;
  void *host_access_context = nullptr;

  void add_int(const char *name, long long value);
  void add_double(const char *name, double value);
  void add_string(const char *name, const char *value);

  // The C view of this job for the bridge; valid while the job lives and is not modified.
  const EEFrame &frame();
  // Bytes per pixel of dtype and components.
  std::size_t pixel_bytes() const;
  // Preview mode (the Analysis File is empty): the engine tracks the frame, so it plans with its pixels.
  bool preview() const;
  // The parameter values, in the order they were added.
  const std::vector<EEValue> &values() const { return values_; }

 private:
  std::vector<std::unique_ptr<std::string>> strings_;  // stable addresses
  std::vector<EEValue> values_;
  EEFrame frame_{};
};

struct Outcome {
  int status = 0;  // an OfxStatus
  Level level = Level::None;
  std::string message;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Called on host render threads, concurrently. Never throws, never waits forever.
  virtual Outcome render(std::shared_ptr<FrameJob> job) = 0;
  // Drop engine caches (OfxActionPurgeCaches); does not wait.
  virtual void purge() = 0;
  // Where the engine runs and why, for the node's message area: "Engine: in-process (...)".
  virtual std::string note() const = 0;
};

// Where the engine runs in this process, and why.
struct TransportChoice {
  bool server = false;
  std::string reason;
};

// The choice for this process: the setting (EMOTIONEDIT_TRANSPORT, or transport = in the
// settings file) if forced, else in-process unless another Python is loaded or one is
// already running here (python_guard.h).
TransportChoice choose_transport(const Settings &settings);

std::unique_ptr<Transport> make_inprocess_transport(const Settings &settings, const std::string &reason);
std::unique_ptr<Transport> make_server_transport(const Settings &settings, const std::string &reason);

// The process's transport, created on first use and never destroyed (its worker thread,
// the embedded interpreter or the server's connections live as long as the process).
Transport &transport();

// The transport if a render has created it, else nullptr (purging must not start Python).
Transport *existing_transport();

}  // namespace ee
