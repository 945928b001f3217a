#include "messages.h"

#include <cstdio>
#include <mutex>

#include "ofx_names.h"
#include "suites.h"

namespace ee {

static const char *ofx_type(Level level) {
  return level == Level::Error ? kOfxMessageError : level == Level::Warning ? kOfxMessageWarning : kOfxMessageMessage;
}

static const char *label(Level level) {
  return level == Level::Error ? "error" : level == Level::Warning ? "warning" : "info";
}

void log_line(Level level, const std::string &text) {
  static std::mutex mutex;
  static std::string last;
  std::lock_guard<std::mutex> lock(mutex);
  if (text == last) return;
  last = text;
  std::fprintf(stderr, "EmotionEdit: %s: %s\n", label(level), text.c_str());
  std::fflush(stderr);
}

void show_message(OfxImageEffectHandle effect, Level level, const std::string &text, const std::string &detail) {
  if (level == Level::None || text.empty()) return;
  // Information (where the engine runs) is logged once, when it is decided, not for every frame.
  if (level != Level::Info) log_line(level, text);
  const std::string shown = detail.empty() ? text : text + "\n" + detail;
  // Always through "%s": the text comes from Python and may contain '%'.
  if (const OfxMessageSuiteV2 *v2 = suites().message2.load()) {
    v2->setPersistentMessage(effect, ofx_type(level), "io.emotionedit.EmotionEdit", "%s", shown.c_str());
  } else if (level == Level::Info) {
    return;  // a plain message is a dialog in interactive hosts: not for information on every frame
  } else if (const OfxMessageSuiteV1 *v1 = suites().message1.load()) {
    v1->message(effect, ofx_type(level), "io.emotionedit.EmotionEdit", "%s", shown.c_str());
  }
}

void clear_message(OfxImageEffectHandle effect) {
  if (const OfxMessageSuiteV2 *v2 = suites().message2.load()) v2->clearPersistentMessage(effect);
}

}  // namespace ee
