// File: vmtest/mocks/processes.hpp
//
// Process checks for hygiene tests: what still runs that a test started.
#pragma once

#include <string>
#include <vector>

namespace vmtest::mocks {

// The processes (not zombies) whose command line (argv joined by spaces) contains `needle`, each as
// "<pid>: <argv joined by spaces>". QEMU and vde_switch carry their state
// folder in their arguments, so a state folder's path finds them.
std::vector<std::string> processes_mentioning(const std::string& needle);

}  // namespace vmtest::mocks
