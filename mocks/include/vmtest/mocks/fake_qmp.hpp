// File: vmtest/mocks/fake_qmp.hpp
//
// A QMP peer for unit tests of QMP clients: one end of a socket pair, served
// by a thread that sends a greeting and answers each request from a script
// (a reply, an error, events first, a verbatim line, silence, or hanging
// up). Unscripted, qmp_capabilities succeeds and any other command gets
// QEMU's own CommandNotFound error.
//
//   vmtest::mocks::FakeQmpServer qmp;
//   qmp.reply("query-status", {{"status", "running"}});
//   qmp.start();
//   vmtest::QmpClient client(qmp.take_client(), -1, context);
//
// A transcript recorded from QEMU (lines "< " from QEMU, "> " to it) can be
// the script: replay() answers each recorded command with what QEMU sent
// after it, the id set to the request's.
#pragma once

#include <vmtest/fd.hpp>

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vmtest::mocks {

class FakeQmpServer {
 public:
  // QEMU 7.2's greeting (fixtures/tests/testdata/qmp/qemu-7.2-session.txt).
  static constexpr std::string_view kQemu72Greeting =
      R"({"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}})";

  FakeQmpServer();
  ~FakeQmpServer();
  FakeQmpServer(const FakeQmpServer&) = delete;
  FakeQmpServer& operator=(const FakeQmpServer&) = delete;

  // The client's end (once).
  UniqueFd take_client();

  // The script, before start(). Each call adds one answer for `command`; its
  // answers are used in order and the last one repeats.
  FakeQmpServer& greeting(std::string line);  // default kQemu72Greeting; "" sends none
  FakeQmpServer& reply(const std::string& command, nlohmann::json ret = nlohmann::json::object(),
                       std::vector<nlohmann::json> events_first = {});
  FakeQmpServer& error(const std::string& command, const std::string& error_class,
                       const std::string& desc);
  // Sends `lines` verbatim (each ends with "\r\n" unless it has "\n").
  FakeQmpServer& raw(const std::string& command, std::vector<std::string> lines);
  FakeQmpServer& silent(const std::string& command);   // reads it, never answers
  FakeQmpServer& hang_up(const std::string& command);  // closes the socket on it
  // The greeting and answers of a recorded transcript.
  FakeQmpServer& replay(std::string_view transcript);

  void start();
  // Sends one line now (an event, garbage), from any thread.
  void send(std::string_view line);
  // Closes the server's end now.
  void close();
  // What the client sent so far, parsed (a line that is not JSON is a string).
  std::vector<nlohmann::json> requests() const;
  // Waits (up to `timeout`) until `n` requests have arrived.
  bool wait_for_requests(std::size_t n, Duration timeout) const;

 private:
  struct Answer {
    enum class Kind { kLines, kSilent, kHangUp } kind = Kind::kLines;
    std::vector<std::string> lines;  // each ends with "\r\n"
    bool set_id = true;              // a reply line gets the request's id
  };
  FakeQmpServer& add(const std::string& command, Answer answer);
  void serve();
  void answer(const nlohmann::json& request);
  void write_line(std::string line);

  UniqueFd server_;
  UniqueFd client_;
  UniqueFd stop_;  // eventfd: ends serve()
  std::string greeting_{kQemu72Greeting};
  std::map<std::string, std::deque<Answer>> script_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::vector<nlohmann::json> requests_;
  std::mutex write_mutex_;
  std::thread thread_;
};

}  // namespace vmtest::mocks
