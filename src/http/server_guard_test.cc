// HttpServer against hostile clients, over plain sockets with short deadlines: a head trickled
// a byte at a time (never idle for libmicrohttpd) is cut at the head deadline, a body trickled
// at the request deadline; a flood of idle connections past the cap cannot lock out a client
// that sends its request; a chunked body past the limit closes the connection long before the
// client has sent it all; bodies announced at once beyond the budget are answered 503. The
// listener's series count the cuts. The deadlines are read on the options' Clock.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "http/test_sockets.h"
#include "testing/fake_clock.h"
#include "testing/wait_for.h"

namespace ferry::http {
namespace {

using Clock = std::chrono::steady_clock;
using test_sockets::Connect;
using test_sockets::Exchange;
using test_sockets::ReadAll;
using test_sockets::SendAll;

const std::string kGet = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

// Sends `head` at once, then `trickle` one byte every 100 ms; the seconds until the server
// closed the connection (-1: still open after `give_up_s`).
double SecondsUntilCut(int port, const std::string& head, const std::string& trickle,
                       double give_up_s) {
  const int fd = Connect(port);
  if (fd < 0) return -2;
  const auto start = Clock::now();
  SendAll(fd, head);
  double cut = -1;
  for (size_t i = 0;; ++i) {
    const double now = std::chrono::duration<double>(Clock::now() - start).count();
    if (now > give_up_s) break;
    char c;
    const ssize_t got = ::recv(fd, &c, 1, MSG_DONTWAIT);
    const bool closed = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
                        ::send(fd, &trickle[i % trickle.size()], 1, MSG_NOSIGNAL) <= 0;
    if (closed) {
      cut = now;
      break;
    }
    // real time: the client trickles against the server's deadlines on the real clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::close(fd);
  return cut;
}

ServerOptions Short(obs::Registry* registry = nullptr) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.max_body = 1000;
  o.idle_seconds = 30;  // never what cuts here
  o.header_seconds = 1;
  o.request_seconds = 2;
  o.registry = registry;
  o.name = "test";
  return o;
}

// The server's interim answer to a head sent with "Expect: 100-continue" (what arrives up to
// its blank line; empty when nothing did within the socket's 5 s).
std::string ReadContinue(int fd) {
  std::string got;
  char c;
  while (got.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) got += c;
  return got;
}

ServerResponse Ok(const ServerRequest& r) {
  return ServerResponse::Text(200, "ok " + std::to_string(r.body.size()) + "\n");
}

// Before the guard, libmicrohttpd's idle timeout (30 s here) was the only bound: a byte every
// 100 ms kept the connection for as long as the client liked.
TEST(HttpServerGuardTest, ATrickledHeadIsCutAtTheHeadDeadline) {
  obs::Registry registry;
  auto server = HttpServer::Start(Short(&registry), &Ok);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const double cut = SecondsUntilCut((*server)->port(), "GET / HTTP/1.1\r\n", "X-a: b\r\n", 6);
  EXPECT_GT(cut, 0.9);
  EXPECT_LT(cut, 2.5) << "a head trickled for " << cut << " s was not cut";
  EXPECT_EQ(registry.Total("ferry_http_server_cut_total", "reason", "header_timeout"), 1);
  EXPECT_NE(Exchange((*server)->port(), kGet).find("200 OK"), std::string::npos);
}

// The server's one thread sweeps the deadlines on ServerOptions::clock: a head that stopped
// half-way is left while that clock stands, however long in real time, and cut within the
// thread's 250 ms once it has moved past the deadline.
TEST(HttpServerGuardTest, DeadlinesAreReadOnTheOptionsClock) {
  obs::Registry registry;
  testing::FakeClock clock;
  ServerOptions o = Short(&registry);
  o.header_seconds = 5;
  o.clock = &clock;
  auto server = HttpServer::Start(o, &Ok);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int fd = Connect((*server)->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET / HTTP/1.1\r\n");
  const auto open = [fd] {
    char c;
    const ssize_t got = ::recv(fd, &c, 1, MSG_DONTWAIT);
    return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  };
  // real time: what is asserted is that real time going by (four of the server thread's sweeps
  // and more, each 250 ms of real time) cuts nothing while the options' clock stands.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_TRUE(open()) << "cut before its clock reached the deadline";
  clock.SleepFor(std::chrono::seconds(6), {});
  const auto start = Clock::now();
  pollfd hangup{fd, POLLIN | POLLRDHUP, 0};  // the cut: the socket reads its end
  ::poll(&hangup, 1, 5000);
  EXPECT_FALSE(open()) << "not cut 5 s after its clock passed the deadline";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  ::close(fd);
  EXPECT_EQ(registry.Total("ferry_http_server_cut_total", "reason", "header_timeout"), 1);
}

TEST(HttpServerGuardTest, ATrickledBodyIsCutAtTheRequestDeadline) {
  obs::Registry registry;
  auto server = HttpServer::Start(Short(&registry), &Ok);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const double cut = SecondsUntilCut(
      (*server)->port(), "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n", "x", 6);
  EXPECT_GT(cut, 1.9);
  EXPECT_LT(cut, 3.5) << "a body trickled for " << cut << " s was not cut";
  EXPECT_EQ(registry.Total("ferry_http_server_cut_total", "reason", "request_timeout"), 1);
}

// 40 idle connections against a cap of 16: before eviction the cap was theirs until the idle
// timeout, and a request's connection was closed unanswered.
TEST(HttpServerGuardTest, AFloodOfIdleConnectionsCannotLockOutARequest) {
  obs::Registry registry;
  ServerOptions o = Short(&registry);
  o.header_seconds = 30;
  o.request_seconds = 30;
  o.max_connections = 16;
  auto server = HttpServer::Start(o, &Ok);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(Connect((*server)->port()));
  // The server took the flood in: every connection past the cap evicted an idle one.
  ferry::testing::WaitFor(
      [&] { return registry.Total("ferry_http_server_cut_total", "reason", "evicted") >= 24; });
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const std::string reply = Exchange((*server)->port(), kGet);
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_NE(reply.find("200 OK"), std::string::npos) << "request " << i << ": " << reply;
    EXPECT_LT(took, 2.0);
  }
  EXPECT_GE(registry.Total("ferry_http_server_cut_total", "reason", "evicted"), 24);
  EXPECT_LE(registry.Total("ferry_http_server_connections", "listener", "test"), 16);
  for (int fd : idle) ::close(fd);
}

// Before, a chunked body past the limit was read to its end (and discarded): 256 MiB went in.
TEST(HttpServerGuardTest, AChunkedBodyPastTheLimitClosesTheConnection) {
  std::atomic<int> calls{0};
  auto server = HttpServer::Start(Short(), [&](const ServerRequest& r) {
    calls++;
    return Ok(r);
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int fd = Connect((*server)->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  size_t sent = 0;
  while (sent < (256u << 20)) {
    const size_t n = SendAll(fd, chunk);
    sent += n;
    if (n < chunk.size()) break;
  }
  ::close(fd);
  EXPECT_LT(sent, 64u << 20) << "the server read on past the limit";
  EXPECT_EQ(calls.load(), 0);
  EXPECT_NE(Exchange((*server)->port(), kGet).find("200 OK"), std::string::npos);
}

TEST(HttpServerGuardTest, BodiesAnnouncedAtOnceBeyondTheBudgetAreAnswered503) {
  obs::Registry registry;
  ServerOptions o = Short(&registry);
  o.max_buffered = 2000;  // two bodies of 1000
  auto server = HttpServer::Start(o, &Ok);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string head =
      "POST /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n";
  // The server answers "100 Continue" once it took a request's head in (and charged its body
  // to the budget): a and b hold the budget then.
  const std::string expecting = head.substr(0, head.size() - 2) + "Expect: 100-continue\r\n\r\n";
  const int a = Connect((*server)->port());
  const int b = Connect((*server)->port());
  SendAll(a, expecting);
  SendAll(b, expecting);
  EXPECT_NE(ReadContinue(a).find("100 Continue"), std::string::npos);
  EXPECT_NE(ReadContinue(b).find("100 Continue"), std::string::npos);
  std::string third = Exchange((*server)->port(), head);
  EXPECT_NE(third.find("503"), std::string::npos) << third;
  EXPECT_NE(third.find("Retry-After: 1"), std::string::npos) << third;
  SendAll(a, std::string(1000, 'x'));  // a's body in: its share of the budget comes back
  EXPECT_NE(ReadAll(a).find("ok 1000"), std::string::npos);
  ::close(a);
  // a's connection is gone (its request completed before): only b's is left.
  ferry::testing::WaitFor(
      [&] { return registry.Total("ferry_http_server_connections", "listener", "test") == 1; });
  const std::string fourth = Exchange((*server)->port(), head + std::string(1000, 'y'));
  EXPECT_NE(fourth.find("ok 1000"), std::string::npos) << fourth;
  ::close(b);
}

}  // namespace
}  // namespace ferry::http
