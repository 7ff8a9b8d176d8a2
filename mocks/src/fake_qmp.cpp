#include "vmtest/mocks/fake_qmp.hpp"

#include <vmtest/errors.hpp>

#include <fmt/format.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>

namespace vmtest::mocks {

namespace {

std::string with_crlf(std::string line) {
  if (line.empty() || line.back() != '\n') line += "\r\n";
  return line;
}

}  // namespace

FakeQmpServer::FakeQmpServer() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("socketpair");
  server_ = UniqueFd(sv[0]);
  client_ = UniqueFd(sv[1]);
  stop_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!stop_) throw_errno("eventfd");
}

FakeQmpServer::~FakeQmpServer() {
  close();
}

UniqueFd FakeQmpServer::take_client() {
  return std::move(client_);
}

FakeQmpServer& FakeQmpServer::greeting(std::string line) {
  greeting_ = std::move(line);
  return *this;
}

FakeQmpServer& FakeQmpServer::add(const std::string& command, Answer answer) {
  script_[command].push_back(std::move(answer));
  return *this;
}

FakeQmpServer& FakeQmpServer::reply(const std::string& command, nlohmann::json ret,
                                    std::vector<nlohmann::json> events_first) {
  Answer a;
  for (auto& e : events_first) a.lines.push_back(with_crlf(e.dump()));
  a.lines.push_back(with_crlf(nlohmann::json{{"return", std::move(ret)}}.dump()));
  return add(command, std::move(a));
}

FakeQmpServer& FakeQmpServer::error(const std::string& command, const std::string& error_class,
                                    const std::string& desc) {
  Answer a;
  a.lines.push_back(
      with_crlf(nlohmann::json{{"error", {{"class", error_class}, {"desc", desc}}}}.dump()));
  return add(command, std::move(a));
}

FakeQmpServer& FakeQmpServer::raw(const std::string& command, std::vector<std::string> lines) {
  Answer a;
  for (auto& l : lines) a.lines.push_back(with_crlf(std::move(l)));
  a.set_id = false;
  return add(command, std::move(a));
}

FakeQmpServer& FakeQmpServer::silent(const std::string& command) {
  return add(command, Answer{Answer::Kind::kSilent, {}, false});
}

FakeQmpServer& FakeQmpServer::hang_up(const std::string& command) {
  return add(command, Answer{Answer::Kind::kHangUp, {}, false});
}

FakeQmpServer& FakeQmpServer::replay(std::string_view transcript) {
  bool greeted = false;
  Answer* current = nullptr;
  std::size_t pos = 0;
  while (pos < transcript.size()) {
    auto nl = transcript.find('\n', pos);
    auto end = nl == std::string_view::npos ? transcript.size() : nl + 1;
    std::string_view line = transcript.substr(pos, end - pos);
    pos = end;
    if (line.size() < 2 || line[1] != ' ') continue;
    std::string body(line.substr(2));
    if (line[0] == '>') {
      auto request = nlohmann::json::parse(body, nullptr, false);
      if (request.is_discarded() || !request.contains("execute"))
        throw InvalidArgument("QMP transcript: a `>` line is not a request: " + body);
      auto& answers = script_[request["execute"].get<std::string>()];
      answers.push_back(Answer{});
      current = &answers.back();
      greeted = true;
    } else if (line[0] == '<') {
      if (!greeted) {
        while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
        greeting_ = body;
      } else if (current) {
        current->lines.push_back(with_crlf(std::move(body)));
      }
    }
  }
  return *this;
}

void FakeQmpServer::start() {
  thread_ = std::thread([this] { serve(); });
}

void FakeQmpServer::send(std::string_view line) {
  write_line(with_crlf(std::string(line)));
}

void FakeQmpServer::write_line(std::string line) {
  std::lock_guard lock(write_mutex_);
  if (!server_) return;
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(server_.get(), line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client went away
    off += static_cast<std::size_t>(n);
  }
}

void FakeQmpServer::close() {
  std::uint64_t one = 1;
  ssize_t ignored = ::write(stop_.get(), &one, sizeof one);
  (void)ignored;
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(write_mutex_);
  server_.reset();
}

std::vector<nlohmann::json> FakeQmpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool FakeQmpServer::wait_for_requests(std::size_t n, Duration timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

void FakeQmpServer::answer(const nlohmann::json& request) {
  std::string command =
      request.is_object() && request.contains("execute") && request["execute"].is_string()
          ? request["execute"].get<std::string>()
          : "";
  auto it = script_.find(command);
  if ((it == script_.end() || it->second.empty()) && command == "qmp_capabilities") {
    // Negotiation succeeds unless scripted otherwise, as with QEMU.
    nlohmann::json ok = {{"return", nlohmann::json::object()}};
    if (request.contains("id")) ok["id"] = request["id"];
    write_line(with_crlf(ok.dump()));
    return;
  }
  if (it == script_.end() || it->second.empty()) {
    // What QEMU answers (see the recorded session).
    nlohmann::json e = {{"error",
                         {{"class", "CommandNotFound"},
                          {"desc", fmt::format("The command {} has not been found", command)}}}};
    if (request.is_object() && request.contains("id")) e["id"] = request["id"];
    write_line(with_crlf(e.dump()));
    return;
  }
  Answer a = it->second.front();
  if (it->second.size() > 1) it->second.pop_front();
  if (a.kind == Answer::Kind::kSilent) return;
  if (a.kind == Answer::Kind::kHangUp) {
    std::lock_guard lock(write_mutex_);
    server_.reset();
    return;
  }
  for (auto& line : a.lines) {
    if (a.set_id && request.is_object() && request.contains("id")) {
      auto msg = nlohmann::json::parse(line, nullptr, false);
      if (msg.is_object() && !msg.contains("event") &&
          msg.value("id", nlohmann::json()) != request["id"]) {
        msg["id"] = request["id"];
        line = with_crlf(msg.dump());
      }
    }
    write_line(line);
  }
}

void FakeQmpServer::serve() {
  if (!greeting_.empty()) write_line(with_crlf(greeting_));
  std::string buffer;
  char chunk[4096];
  for (;;) {
    int fd;
    {
      std::lock_guard lock(write_mutex_);
      fd = server_.get();
    }
    if (fd < 0) return;
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      auto request = nlohmann::json::parse(line, nullptr, false);
      if (request.is_discarded()) request = line;
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      cv_.notify_all();
      answer(request);
    }
  }
}

}  // namespace vmtest::mocks
