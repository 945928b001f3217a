// Can this process take our embedded Python? Checked before the bridge (and with it
// libpython) is loaded: Py* symbols are unversioned and the global scope is searched
// first, so if the host already carries another libpython, the bridge's calls would
// bind to it (an ABI mismatch and a crash) - and promoting ours to global visibility
// could hijack the host's own extension modules.
#pragma once

#include <string>

#include "settings.h"

namespace ee {

// "" when in-process mode may go ahead, else why not (for the user).
std::string in_process_refusal(const Settings &settings);

// Is the engine environment's Python the version the bridge was built for? "" if so.
std::string python_version_mismatch(const Settings &settings);

}  // namespace ee
