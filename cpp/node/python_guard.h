// Can this process take our embedded Python? Checked before the bridge (and with it
// libpython) is loaded: Py* symbols are unversioned and the global scope is searched
// first, so if the host already carries another libpython, the bridge's calls would
// bind to it (an ABI mismatch and a crash) - and promoting ours to global visibility
// could hijack the host's own extension modules. And a host that already runs Python
// may hold its GIL while it waits for our render (a deadlock: ofx.md, E5).
#pragma once

#include <string>

#include "settings.h"

namespace ee {

// "" when no Python other than EmotionEdit's is loaded in this process, else what is.
std::string foreign_python(const Settings &settings);

// "" unless a Python in this process is already initialised (by the host, or a script driving it).
std::string python_already_running();

// "" when in-process mode may go ahead, else why not (for the user, with what to do).
std::string in_process_refusal(const Settings &settings);

// Is the engine environment's Python the version the bridge was built for? "" if so.
std::string python_version_mismatch(const Settings &settings);

}  // namespace ee
