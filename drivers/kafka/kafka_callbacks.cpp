#include "drivers/kafka/kafka_callbacks.hpp"

#include <cstdlib>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>

#include "drivers/deadline.hpp"

namespace custodian::drivers {

namespace {

kafka_callbacks& of(void* opaque) {
  return *static_cast<kafka_callbacks*>(opaque);
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto& cb = of(opaque);
  auto id = reinterpret_cast<uintptr_t>(msg->_private);
  if (cb.awaited == 0 || id != cb.awaited)
    return; // a message of a holder, or one whose exec gave up
  cb.delivered = true;
  cb.delivery_error = msg->err;
  cb.topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "";
  cb.partition = msg->partition;
  cb.offset = msg->offset;
}

void on_error(rd_kafka_t* rk, int code, const char* reason, void* opaque) {
  auto& cb = of(opaque);
  switch (static_cast<rd_kafka_resp_err_t>(code)) {
  case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    cb.brokers_down = true;
    break;
  case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    cb.auth_error = reason;
    break;
  case RD_KAFKA_RESP_ERR__FATAL: {
    char text[512] = "";
    rd_kafka_fatal_error(rk, text, sizeof text);
    cb.fatal_error = text[0] ? text : reason;
    break;
  }
  default:
    cb.broker_error = reason;
    break;
  }
}

/// librdkafka writes its logs to stderr by default; the error events above
/// carry what matters, so its logs go nowhere.
void drop_log(const rd_kafka_t*, int, const char*, const char*) {}

/// One addrinfo and the address it points to, freed together.
struct owned_addrinfo {
  addrinfo info{};
  sockaddr_storage addr{};
};

void free_list(addrinfo* list) {
  while (list) {
    auto* next = list->ai_next;
    delete reinterpret_cast<owned_addrinfo*>(list);
    list = next;
  }
}

/// getaddrinfo's contract, through the bounded `resolve`: a broker thread never
/// waits for a dead DNS server longer than the connect timeout.
int resolve_bounded(const char* node, const char* service, const addrinfo* hints, addrinfo** res,
                    void* opaque) {
  if (!node && !service && !hints) {
    free_list(*res);
    return 0;
  }
  if (!node)
    return EAI_NONAME;
  long port = service ? std::strtol(service, nullptr, 10) : 0;
  if (port < 0 || port > 65535)
    return EAI_SERVICE;
  auto found = resolve(node, static_cast<uint16_t>(port), deadline{of(opaque).resolve_budget});
  if (!found)
    return found.error().code == driver_errc::timeout ? EAI_AGAIN : EAI_NONAME;
  addrinfo* head = nullptr;
  addrinfo** tail = &head;
  for (const auto& a : found.value()) {
    if (hints && hints->ai_family != AF_UNSPEC && hints->ai_family != a.addr.ss_family)
      continue;
    auto* item = new owned_addrinfo;
    std::memcpy(&item->addr, &a.addr, a.len);
    item->info.ai_family = a.addr.ss_family;
    item->info.ai_socktype = SOCK_STREAM;
    item->info.ai_protocol = IPPROTO_TCP;
    item->info.ai_addrlen = a.len;
    item->info.ai_addr = reinterpret_cast<sockaddr*>(&item->addr);
    *tail = &item->info;
    tail = &item->info.ai_next;
  }
  *res = head;
  return head ? 0 : EAI_FAMILY;
}

} // namespace

void kafka_callbacks::broker_answered() {
  brokers_down = false;
  auth_error.clear();
}

void kafka_callbacks::install(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_log_cb(conf, drop_log);
  rd_kafka_conf_set_resolve_cb(conf, resolve_bounded);
}

} // namespace custodian::drivers
