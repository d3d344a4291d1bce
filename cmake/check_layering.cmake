# Fails when a folder includes headers it may not depend on (docs/architecture.md, "Layers").
# Usage: cmake -DSOURCE_DIR=<repo> -P check_layering.cmake

# folder -> regular expression of forbidden #include targets
set(rules
  "base|#include [<\"](engine|storage|tokenio|service|server|tools|rocksdb|boost/asio|boost/beast)/"
  "engine|#include [<\"](storage|tokenio|service|server|tools|rocksdb|boost/asio|boost/beast)/"
  "storage|#include [<\"](engine|tokenio|service|server|tools|rocksdb|boost/asio|boost/beast)/"
  "tokenio|#include [<\"](storage|service|server|tools|rocksdb|boost/asio|boost/beast)/"
  "service|#include [<\"](storage/rocksdb|storage/etcd|server|tools|rocksdb|boost/asio|boost/beast)/"
  "server|#include [<\"](storage/rocksdb|storage/etcd|tools|rocksdb)/"
  # The PAM module stands alone: libpam and libc only.
  "pam|#include [<\"](base|engine|storage|tokenio|service|server|tools|rocksdb|boost|openssl)/")

set(violations "")
foreach(rule IN LISTS rules)
  string(FIND "${rule}" "|" bar)
  string(SUBSTRING "${rule}" 0 ${bar} folder)
  math(EXPR start "${bar} + 1")
  string(SUBSTRING "${rule}" ${start} -1 pattern)
  file(GLOB_RECURSE files "${SOURCE_DIR}/${folder}/*.h" "${SOURCE_DIR}/${folder}/*.cc"
       "${SOURCE_DIR}/${folder}/*.c")
  foreach(f IN LISTS files)
    # storage/rocksdb/ is the one place RocksDB may appear.
    if(folder STREQUAL "storage" AND f MATCHES "/storage/rocksdb/")
      continue()
    endif()
    file(STRINGS "${f}" lines REGEX "^[ \t]*#include")
    foreach(line IN LISTS lines)
      if(line MATCHES "${pattern}")
        string(APPEND violations "  ${f}: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "Layering violations (see docs/architecture.md, Layers):\n${violations}")
endif()
