# Copies one of etcd's .proto files into the build tree without what only Go and the JSON gateway
# use: the gogoproto options and imports, and the google.api.http annotations. What remains is
# plain proto3 that protoc compiles without those packages' .proto files.
# Usage: cmake -DIN=<etcd proto> -DOUT=<destination> -P strip_proto.cmake
file(READ "${IN}" text)
string(REGEX REPLACE "import \"gogoproto/gogo.proto\";" "" text "${text}")
string(REGEX REPLACE "import \"google/api/annotations.proto\";" "" text "${text}")
string(REGEX REPLACE "option \\(gogoproto\\.[a-z_]+\\) = [a-z]+;" "" text "${text}")
# Field options such as [(gogoproto.nullable) = false] (none in the files used today).
string(REGEX REPLACE "\\[\\(gogoproto\\.[a-z_]+\\) = [^]]*\\]" "" text "${text}")
# The HTTP annotations span several lines, some with one nested block:
#   option (google.api.http) = { post: "..." body: "*" additional_bindings { post: "..." } };
string(REGEX REPLACE "option \\(google\\.api\\.http\\) = \\{[^{}]*(\\{[^{}]*\\}[^{}]*)?\\};" ""
       text "${text}")
if(text MATCHES "gogoproto|google\\.api\\.")
  message(FATAL_ERROR "${IN}: options left that strip_proto.cmake does not know")
endif()
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
