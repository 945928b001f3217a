// Messages to the user: the node's persistent message where the host has one (message
// suite v2), a plain message otherwise, and one line on stderr for render farms and
// terminals (each distinct text once in a row, not once per frame).
#pragma once

#include <string>

#include "ofx_core.h"

namespace ee {

enum class Level { None, Info, Warning, Error };  // Info: OfxMessageMessage (persistent only)

// detail: a further line for the message area only (not logged: the log has it once already).
void show_message(OfxImageEffectHandle effect, Level level, const std::string &text, const std::string &detail = "");

// Clear the node's persistent message (message suite v2; nothing without it).
void clear_message(OfxImageEffectHandle effect);

// stderr only (for failures with no effect handle at hand).
void log_line(Level level, const std::string &text);

}  // namespace ee
