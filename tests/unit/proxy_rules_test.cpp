// The egress proxy's pure parts: rule matching, rule parsing, HTTP heads, SOCKS5 messages.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mxc/proxy/domain_rules.hpp"
#include "mxc/proxy/http_request.hpp"
#include "mxc/proxy/socks5.hpp"

using namespace mxc::proxy;
using nlohmann::json;

namespace {
DomainRules compile(const json& j) {
  auto r = parse_rules(j);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  auto d = DomainRules::compile(*r);
  BOOST_REQUIRE(d.ok());
  return *d;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(proxy_rules)

BOOST_AUTO_TEST_CASE(wildcard_and_exact_matching_table) {
  auto rules = compile({{"allowDomains", {"api.github.com", "*.npmjs.org", "Example.COM."}}});
  struct Row {
    const char* host;
    bool allowed;
  };
  const Row table[] = {
      {"api.github.com", true},       {"API.GitHub.com", true},    {"api.github.com.", true},
      {"github.com", false},          {"x.api.github.com", false}, {"registry.npmjs.org", true},
      {"a.b.npmjs.org", true},        {"npmjs.org", false},        {"evilnpmjs.org", false},
      {"npmjs.org.evil.com", false},  {"example.com", true},       {"www.example.com", false},
      {"api.github.com.evil", false},
  };
  for (const auto& row : table) {
    auto v = rules.check(row.host);
    BOOST_TEST(v.allowed() == row.allowed, row.host << " -> " << v.reason);
  }
  BOOST_TEST(rules.check("registry.npmjs.org").reason == "network.allowDomains: *.npmjs.org");
  BOOST_TEST(rules.check("github.com").reason == "github.com is not in network.allowDomains");
}

BOOST_AUTO_TEST_CASE(ip_literals_need_a_cidr) {
  auto none = compile({{"allowDomains", {"*.example.com"}}});
  for (const char* ip : {"127.0.0.1", "::1", "[::1]", "::ffff:10.1.2.3"}) {
    auto v = none.check(ip);
    BOOST_TEST(!v.allowed(), ip);
    BOOST_TEST((v.kind == Verdict::Kind::denied), ip);
  }
  BOOST_TEST(none.check("10.1.2.3").reason ==
             "10.1.2.3 is an IP address not in network.allowCidrs");
  // Numeric forms that inet_aton would read as addresses are not names either.
  for (const char* h : {"127.1", "2130706433", "0x7f000001", "a.0x7f", "evil.com/x", "a..b", ""}) {
    BOOST_TEST((none.check(h).kind == Verdict::Kind::malformed), h);
  }
  auto cidr = compile({{"allowCidrs", {"10.0.0.0/8", "::1/128", "192.168.1.7"}}});
  BOOST_TEST(cidr.check("10.200.0.1").allowed());
  BOOST_TEST(cidr.check("::ffff:10.1.2.3").allowed());  // IPv4-mapped is IPv4
  BOOST_TEST(!cidr.check("11.0.0.1").allowed());
  BOOST_TEST(cidr.check("[::1]").allowed());
  BOOST_TEST(!cidr.check("::2").allowed());
  BOOST_TEST(cidr.check("192.168.1.7").allowed());
  BOOST_TEST(!cidr.check("192.168.1.8").allowed());
  BOOST_TEST(cidr.check("10.0.0.1").reason == "network.allowCidrs: 10.0.0.0/8");
}

BOOST_AUTO_TEST_CASE(cidr_prefix_edges) {
  auto c = parse_cidr("172.16.0.0/12");
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->contains(*parse_ip("172.31.255.255")));
  BOOST_TEST(!c->contains(*parse_ip("172.32.0.0")));
  BOOST_TEST(parse_cidr("0.0.0.0/0")->contains(*parse_ip("8.8.8.8")));
  BOOST_TEST(!parse_cidr("0.0.0.0/0")->contains(*parse_ip("::8")));
  BOOST_TEST(!parse_cidr("10.0.0.1/8").ok());  // host bits set
  BOOST_TEST(!parse_cidr("10.0.0.0/33").ok());
  BOOST_TEST(!parse_cidr("10.0.0.0/").ok());
  BOOST_TEST(!parse_cidr("example.com/8").ok());
}

BOOST_AUTO_TEST_CASE(parse_rules_errors_name_the_field) {
  auto err = [](const json& j) {
    auto r = parse_rules(j);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  BOOST_TEST(err({{"allowDomains", {"ok.com", "a*.b"}}}) ==
             "network.allowDomains[1]: \"a*.b\" is not a domain name or a \"*.\" wildcard");
  BOOST_TEST(err({{"allowDomains", {"*"}}}) ==
             "network.allowDomains[0]: \"*\" is not a domain name or a \"*.\" wildcard");
  BOOST_TEST(err({{"allowDomains", {"10.0.0.1"}}}) ==
             "network.allowDomains[0]: \"10.0.0.1\" is an address: use allowCidrs");
  BOOST_TEST(err({{"allowDomains", "x.com"}}) ==
             "network.allowDomains: must be an array of strings");
  BOOST_TEST(err({{"allowCidrs", {"10.0.0.0/99"}}}) ==
             "network.allowCidrs[0]: \"10.0.0.0/99\" has an invalid prefix length");
  BOOST_TEST(err({{"hosts", {{"db.test", {"1.2.3.4", "nope"}}}}}) ==
             "network.hosts.db.test: \"nope\" is not an IP address");
  BOOST_TEST(err({{"hosts", {{"db.test", json::array()}}}}) ==
             "network.hosts.db.test: needs at least one address");
  BOOST_TEST(err({{"allowDomain", json::array()}}) ==
             "network.allowDomain: unknown field (expected allowDomains, hosts, allowCidrs)");
  auto ok = parse_rules({{"allowDomains", {"API.Example.com."}},
                         {"hosts", {{"DB.test", "::1"}, {"w.test", {"1.2.3.4"}}}},
                         {"allowCidrs", {"10.0.0.0/8"}}});
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->allow_domains == std::vector<std::string>{"api.example.com"});
  BOOST_TEST(ok->hosts.at("db.test") == std::vector<std::string>{"::1"});
  BOOST_TEST(ok->hosts.at("w.test") == std::vector<std::string>{"1.2.3.4"});
}

BOOST_AUTO_TEST_CASE(http_heads) {
  std::string head =
      "GET http://Web.Test:8080/a/b?q=1#frag HTTP/1.1\r\nHost: wrong\r\n"
      "Proxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\n"
      "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 5\r\nAccept: */*\r\n\r\n";
  BOOST_TEST(find_head_end(head + "body") == head.size());
  BOOST_TEST(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n") == 0u);
  auto req = parse_request_head(head);
  BOOST_REQUIRE(req.ok());
  auto uri = parse_absolute_uri(req->target);
  BOOST_REQUIRE(uri.ok());
  BOOST_TEST(uri->dest.host == "Web.Test");
  BOOST_TEST(uri->dest.port == 8080);
  BOOST_TEST(uri->origin_form == "/a/b?q=1");
  BOOST_TEST(origin_request_head(*req, *uri) ==
             "GET /a/b?q=1 HTTP/1.1\r\nHost: Web.Test:8080\r\nAccept: */*\r\n"
             "Connection: close\r\n\r\n");
  BOOST_TEST(parse_absolute_uri("http://h.test")->origin_form == "/");
  BOOST_TEST(parse_absolute_uri("http://h.test?x")->origin_form == "/?x");
  BOOST_TEST(parse_absolute_uri("http://h.test")->dest.port == 80);
  BOOST_TEST(!parse_absolute_uri("/relative").ok());
  BOOST_TEST(!parse_absolute_uri("https://h.test/").ok());
  BOOST_TEST(!parse_absolute_uri("http://user@h.test/").ok());

  BOOST_TEST(parse_authority("[::1]:443", 0)->host == "::1");
  BOOST_TEST(parse_authority("[::1]:443", 0)->port == 443);
  BOOST_TEST(!parse_authority("h.test", 0).ok());  // CONNECT needs a port
  BOOST_TEST(!parse_authority("h.test:0", 0).ok());
  BOOST_TEST(!parse_authority("h.test:65536", 0).ok());
  BOOST_TEST(!parse_authority("h.test:+1", 0).ok());
  BOOST_TEST(!parse_authority("::1:443", 0).ok());

  BOOST_TEST(!parse_request_head("GET http://x/ HTTP/2\r\n\r\n").ok());
  BOOST_TEST(!parse_request_head("GET http://x/ HTTP/1.1\r\n folded\r\n\r\n").ok());
  BOOST_TEST(!parse_request_head("GET http://x/ HTTP/1.1\r\nNoColon\r\n\r\n").ok());
  BOOST_TEST(!parse_request_head("GET http://x/ HTTP/1.1\r\nBad Name: v\r\n\r\n").ok());
  BOOST_TEST(!parse_request_head("GET\r\n\r\n").ok());
}

BOOST_AUTO_TEST_CASE(socks5_messages) {
  size_t used = 0;
  bool no_auth = false;
  BOOST_TEST((socks5::parse_greeting(std::string("\x05\x02\x02", 3), used, no_auth) ==
              socks5::Parse::incomplete));
  BOOST_TEST((socks5::parse_greeting(std::string("\x05\x02\x02\x00", 4), used, no_auth) ==
              socks5::Parse::ok));
  BOOST_TEST(no_auth);
  BOOST_TEST(used == 4u);
  BOOST_TEST((socks5::parse_greeting(std::string("\x04\x01\x00", 3), used, no_auth) ==
              socks5::Parse::bad));

  socks5::Request req;
  socks5::Reply code{};
  std::string dom(
      "\x05\x01\x00\x03\x06"
      "a.test"
      "\x01\xbb",
      13);
  BOOST_TEST(
      (socks5::parse_request(dom.substr(0, 10), used, req, code) == socks5::Parse::incomplete));
  BOOST_TEST((socks5::parse_request(dom, used, req, code) == socks5::Parse::ok));
  BOOST_TEST(req.host == "a.test");
  BOOST_TEST(req.port == 443);
  std::string v6 = std::string("\x05\x01\x00\x04", 4) + std::string(15, '\0') + "\x01" +
                   std::string("\x00\x50", 2);
  BOOST_TEST((socks5::parse_request(v6, used, req, code) == socks5::Parse::ok));
  BOOST_TEST(req.host == "::1");
  BOOST_TEST(req.port == 80);
  std::string bad_atyp("\x05\x01\x00\x09\x00\x00", 6);
  BOOST_TEST((socks5::parse_request(bad_atyp, used, req, code) == socks5::Parse::bad));
  BOOST_TEST(code == socks5::kAddressTypeNotSupported);
  BOOST_TEST(socks5::reply(socks5::kNotAllowed) == std::string("\x05\x02\x00\x01\0\0\0\0\0\0", 10));
}

BOOST_AUTO_TEST_SUITE_END()
