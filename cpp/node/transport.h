// How a render reaches the engine. The node talks to a Transport; today the one
// implementation runs the engine in this process (InProcessTransport: embedded CPython
// on one worker thread). An out-of-process engine server (for hosts that run their own
// Python) slots in as a second implementation without touching the OFX side.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../bridge/bridge_api.h"
#include "messages.h"

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

  void add_int(const char *name, long long value);
  void add_double(const char *name, double value);
  void add_string(const char *name, const char *value);

  // The C view of this job for the bridge; valid while the job lives and is not modified.
  const EEFrame &frame();

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
};

// The process's transport, created on first use and never destroyed (its worker thread
// and the embedded interpreter live as long as the process).
Transport &transport();

// The transport if a render has created it, else nullptr (purging must not start Python).
Transport *existing_transport();

}  // namespace ee
