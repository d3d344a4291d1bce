// How the admin API shows and takes each kind of authentication method in Microsoft Graph's
// shapes: one GraphMethodKind per service::MethodKind (server/admin/graph_method_kinds.cc). The
// routes of a kind's collection (/v1.0/users/{upn}/authentication/<collection>) that every kind
// answers alike (list, get, create, update, delete) are made from these entries; what a kind does
// beyond them (activating a token, enrolling an app, enabling SMS) has routes of its own.
// Private to server/admin/.
//
// Thread-safety: constants and pure functions.

#ifndef OTPD_SERVER_ADMIN_INTERNAL_GRAPH_METHOD_KINDS_H_
#define OTPD_SERVER_ADMIN_INTERNAL_GRAPH_METHOD_KINDS_H_

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/statusor.h"
#include "server/admin/graph.h"
#include "service/admin/roles.h"
#include "service/model/records.h"

namespace otpd::server::admin {

// What showing a method takes beyond the method itself.
struct MethodView {
  const service::Principal& viewer;  // phone numbers are masked for some roles
  int64_t now;                       // an app enrolment's status
  // The device behind a hardware token, as GET hardwareOathDevices/{id} shows it; null when the
  // token is gone.
  std::function<base::StatusOr<boost::json::value>(std::string_view serial)> device;
};

struct GraphMethodKind {
  service::MethodKind kind;
  // Writes the kind's own properties of `method` (the caller writes @odata.type, id and
  // createdDateTime).
  base::Status (*show)(const MethodView& view, const service::MethodRecord& method,
                       boost::json::object& out) = nullptr;
  // Which of the collection's common routes the kind answers: GET of the list, GET and DELETE
  // of one method.
  bool list = false;
  bool get = false;
  bool remove = false;
  // POST to the collection: the payload a body asks for (service::MethodAdmin::Add); nullptr
  // where the kind is created by a route of its own or not at all. A problem with the body is
  // left in `in` (FieldReader::Finish reports it first); the status is for what the fields mean.
  base::StatusOr<service::MethodRecord::Payload> (*read_new)(FieldReader& in) = nullptr;
  // PATCH of one method: applies the body to `payload`, a copy of the method's
  // (service::MethodAdmin::Update); nullptr where the kind takes none.
  base::Status (*read_change)(FieldReader& in, service::MethodRecord::Payload& payload) = nullptr;
  // The one property a list may be filtered on with $filter, and its value for a method; ""
  // where the list takes no query.
  std::string_view filter_field;
  std::string (*filter_value)(const service::MethodRecord& method) = nullptr;
};

// The entry of `kind`.
const GraphMethodKind& DescribeGraphMethodKind(service::MethodKind kind);

}  // namespace otpd::server::admin

#endif  // OTPD_SERVER_ADMIN_INTERNAL_GRAPH_METHOD_KINDS_H_
