// ParseListen: a port alone (with or without its colon) is 127.0.0.1, never every interface;
// other interfaces only when named; malformed input is one error naming the option.
#include "http/listen_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace ferry::http {
namespace {

std::string Ipv4Of(const ListenAddress& a) {
  const auto* in = reinterpret_cast<const sockaddr_in*>(&a.address);
  char text[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
}

TEST(ListenAddressTest, APortAloneIsTheLoopbackInterface) {
  for (const char* listen : {"9380", ":9380"}) {
    Result<ListenAddress> a = ParseListen(listen, "--listen");
    ASSERT_TRUE(a.ok()) << listen << ": " << a.status().ToString();
    EXPECT_FALSE(a->ipv6);
    EXPECT_EQ(Ipv4Of(*a), "127.0.0.1:9380") << listen;
    EXPECT_EQ(a->host, "127.0.0.1");
  }
  Result<ListenAddress> any_port = ParseListen(":0", "--listen");
  ASSERT_TRUE(any_port.ok());
  EXPECT_EQ(Ipv4Of(*any_port), "127.0.0.1:0");
}

TEST(ListenAddressTest, OtherInterfacesOnlyWhenNamed) {
  Result<ListenAddress> all = ParseListen("0.0.0.0:9380", "--listen");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Ipv4Of(*all), "0.0.0.0:9380");
  Result<ListenAddress> v6 = ParseListen("[::1]:9381", "--listen");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6*>(&v6->address)->sin6_port), 9381);
}

TEST(ListenAddressTest, MalformedInputIsOneErrorNamingTheOption) {
  for (const char* listen : {"", ":", "localhost", "127.0.0.1:", "127.0.0.1:65536", "1.2.3.4:x",
                             "-1", "[::1]"}) {
    Result<ListenAddress> a = ParseListen(listen, "[serve] listen");
    ASSERT_FALSE(a.ok()) << listen;
    EXPECT_EQ(a.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(a.status().message().rfind("[serve] listen: ", 0), 0u) << a.status().message();
  }
  Result<ListenAddress> unknown = ParseListen("no-such-host.invalid:80", "--metrics-listen");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("cannot resolve"), std::string::npos);
}

}  // namespace
}  // namespace ferry::http
