// File: vmtest/mocks/matchers.hpp
//
// gMock matchers for vmtest's errors, by kind (Error::kind(), errors.hpp)
// instead of by type, so a test names what it expects in one line:
//
//   EXPECT_THAT([&] { m.succeed("false"); }, ThrowsError(ErrorKind::kCommandFailed, "exit"));
//   EXPECT_THAT(caught_error, IsError(ErrorKind::kTimeout));
//
// `text`, when not empty, must occur in what() (the message with its
// machine, command and serial tail).
#pragma once

#include <vmtest/errors.hpp>

#include <gmock/gmock.h>

#include <exception>
#include <ostream>
#include <string>
#include <utility>

namespace vmtest::mocks {

namespace detail {

inline void describe_error(std::ostream* os, ErrorKind kind, const std::string& text) {
  *os << "a vmtest error of kind " << kind_name(kind);
  if (!text.empty()) *os << " whose text contains \"" << text << "\"";
}

inline bool explain_error(const Error& e, ErrorKind kind, const std::string& text,
                          ::testing::MatchResultListener* listener) {
  if (e.kind() != kind) {
    *listener << "its kind is " << kind_name(e.kind()) << ": " << e.what();
    return false;
  }
  if (!text.empty() && std::string(e.what()).find(text) == std::string::npos) {
    *listener << "its text is: " << e.what();
    return false;
  }
  return true;
}

class IsErrorMatcher {
 public:
  IsErrorMatcher(ErrorKind kind, std::string text) : kind_(kind), text_(std::move(text)) {}
  bool MatchAndExplain(const Error& e, ::testing::MatchResultListener* listener) const {
    return explain_error(e, kind_, text_, listener);
  }
  void DescribeTo(std::ostream* os) const { describe_error(os, kind_, text_); }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "not ";
    describe_error(os, kind_, text_);
  }

 private:
  ErrorKind kind_;
  std::string text_;
};

class ThrowsErrorMatcher {
 public:
  ThrowsErrorMatcher(ErrorKind kind, std::string text) : kind_(kind), text_(std::move(text)) {}
  template <class F>
  bool MatchAndExplain(F&& f, ::testing::MatchResultListener* listener) const {
    try {
      std::forward<F>(f)();
    } catch (const Error& e) {
      *listener << "it throws; ";
      return explain_error(e, kind_, text_, listener);
    } catch (const std::exception& e) {
      *listener << "it throws an exception outside vmtest's hierarchy: " << e.what();
      return false;
    } catch (...) {
      *listener << "it throws something that is not a std::exception";
      return false;
    }
    *listener << "it throws nothing";
    return false;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "throws ";
    describe_error(os, kind_, text_);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not throw ";
    describe_error(os, kind_, text_);
  }

 private:
  ErrorKind kind_;
  std::string text_;
};

}  // namespace detail

// Matches a callable that throws a vmtest::Error of `kind` (and `text`).
inline ::testing::PolymorphicMatcher<detail::ThrowsErrorMatcher> ThrowsError(
    ErrorKind kind, std::string text = {}) {
  return ::testing::MakePolymorphicMatcher(detail::ThrowsErrorMatcher(kind, std::move(text)));
}

// Matches a vmtest::Error (any type of the hierarchy) of `kind` (and `text`).
inline ::testing::PolymorphicMatcher<detail::IsErrorMatcher> IsError(ErrorKind kind,
                                                                     std::string text = {}) {
  return ::testing::MakePolymorphicMatcher(detail::IsErrorMatcher(kind, std::move(text)));
}

}  // namespace vmtest::mocks
