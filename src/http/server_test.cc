// HttpServer on a free local port, spoken to over plain sockets: requests and bodies reach the
// handler (headers lower-cased, query decoded), a body over the limit is refused with 413
// without reaching it, a handler that throws answers 500 and the server keeps serving, and a
// malformed address is one clear error. Hostile clients (server_guard_test.cc): a trickled
// head or body is cut at its deadline, a flood of idle connections cannot lock out a request,
// a chunked body past the limit closes the connection, bodies held at once stay in budget.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "http/test_sockets.h"

namespace ferry::http {
namespace {

using test_sockets::Exchange;

std::string Post(int port, const std::string& path, const std::string& body,
                 const std::string& headers = "") {
  return Exchange(port, "POST " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                            headers + "Content-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body);
}

ServerOptions On(std::string listen, size_t max_body = 1 << 20) {
  ServerOptions o;
  o.listen = std::move(listen);
  o.max_body = max_body;
  return o;
}

TEST(HttpServerTest, RequestsReachTheHandlerWithTheirBodyHeadersAndQuery) {
  std::atomic<int> calls{0};
  auto server = HttpServer::Start(
      On("127.0.0.1:0", 1024),
      [&](const ServerRequest& r) -> ServerResponse {
        calls++;
        if (r.path == "/boom") throw std::runtime_error("handler bug");
        ServerResponse reply = ServerResponse::Json(
            201, r.method + " " + r.path + " q=" + (r.query.count("q") ? r.query.at("q") : "") +
                     " token=" + r.Header("x-token") + " body=" + r.body);
        reply.headers = {{"X-Served-By", "ferry"}};
        return reply;
      });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ((*server)->url(), "http://127.0.0.1:" + std::to_string(port));

  std::string reply = Post(port, "/events?q=a%20b", "hello", "X-Token: t1\r\n");
  EXPECT_NE(reply.find("HTTP/1.1 201"), std::string::npos) << reply;
  EXPECT_NE(reply.find("POST /events q=a b token=t1 body=hello"), std::string::npos) << reply;
  EXPECT_NE(reply.find("X-Served-By: ferry"), std::string::npos) << reply;
  EXPECT_NE(reply.find("application/json"), std::string::npos) << reply;

  // over the limit: 413, and the handler never sees it
  const int before = calls.load();
  reply = Post(port, "/events", std::string(4096, 'x'));
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << reply;
  EXPECT_EQ(calls.load(), before);

  reply = Post(port, "/boom", "");
  EXPECT_NE(reply.find("HTTP/1.1 500"), std::string::npos) << reply;
  reply = Exchange(port, "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(reply.find("HTTP/1.1 201"), std::string::npos) << "still serving: " << reply;
  EXPECT_NE(reply.find("GET /after"), std::string::npos) << reply;
}

// A body announced larger than the limit is refused with 413 before it is read: the client
// here sends only the headers of a 1 GB POST and waits. Before, the server waited for the whole
// body (reading and dropping it) before answering: the reply did not come.
TEST(HttpServerTest, AnAnnouncedOversizedBodyIsRefusedBeforeItIsSent) {
  std::atomic<int> calls{0};
  auto server = HttpServer::Start(On("127.0.0.1:0", 1024), [&](const ServerRequest&) {
    calls++;
    return ServerResponse::Text(200, "ok\n");
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>((*server)->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval wait{.tv_sec = 5, .tv_usec = 0};  // the reply must come without the body
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
  const std::string head =
      "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  char buf[1024];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  ::close(fd);
  const std::string reply = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  EXPECT_NE(reply.find("HTTP/1.1 413"), std::string::npos) << "no 413 before the body: " << reply;
  EXPECT_EQ(calls.load(), 0);
  // still serving
  EXPECT_NE(Post((*server)->port(), "/after", "small").find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpServerTest, APortAloneServesOnTheLoopbackInterface) {
  auto server = HttpServer::Start(On(":0"), [](const ServerRequest&) {
    return ServerResponse::Text(200, "local\n");
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->url(), "http://127.0.0.1:" + std::to_string((*server)->port()));
  EXPECT_NE(Post((*server)->port(), "/", "").find("local"), std::string::npos);
}

TEST(HttpServerTest, AMalformedOrTakenAddressIsOneClearError) {
  auto bad = HttpServer::Start(On("localhost"),
                               [](const ServerRequest&) { return ServerResponse{}; });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--listen: \"localhost\" is not HOST:PORT"),
            std::string::npos)
      << bad.status().message();
  auto first = HttpServer::Start(On("127.0.0.1:0"),
                                 [](const ServerRequest&) { return ServerResponse{}; });
  ASSERT_TRUE(first.ok());
  auto taken = HttpServer::Start(On("127.0.0.1:" + std::to_string((*first)->port())),
                                 [](const ServerRequest&) { return ServerResponse{}; });
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace ferry::http
