// The host's suites, fetched once per Load. Host threads may call Load on one thread
// while another renders (MLT loads the plugin for every frame), so the pointers are
// atomics: re-fetching writes the same values and no reader ever sees a torn one.
#pragma once

#include <atomic>

#include "ofx_core.h"
#include "ofx_suites.h"

namespace ee {

struct HostSuites {
  std::atomic<const OfxHost *> host{nullptr};
  std::atomic<const OfxPropertySuiteV1 *> prop{nullptr};
  std::atomic<const OfxImageEffectSuiteV1 *> effect{nullptr};
  std::atomic<const OfxParameterSuiteV1 *> param{nullptr};
  std::atomic<const OfxMessageSuiteV1 *> message1{nullptr};  // NULL: the host has none
  std::atomic<const OfxMessageSuiteV2 *> message2{nullptr};  // NULL: no persistent messages
};

HostSuites &suites();

// setHost / OfxSetHost: only remember the host (nothing may be called from setHost).
void set_host(const OfxHost *host);

// OfxActionLoad: fetch the suites. Fails when a suite a filter cannot live without is missing.
OfxStatus fetch_suites();

// Shorthands for the suites every action uses (valid after a successful Load).
inline const OfxPropertySuiteV1 &props() {
  return *suites().prop.load(std::memory_order_acquire);
}
inline const OfxImageEffectSuiteV1 &effects() {
  return *suites().effect.load(std::memory_order_acquire);
}
inline const OfxParameterSuiteV1 &params() {
  return *suites().param.load(std::memory_order_acquire);
}

}  // namespace ee
