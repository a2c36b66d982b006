# The Debian package of ferry (docs/design/operate.md, "Package"): `cpack -G DEB` in the build
# folder (or scripts/package.sh) makes ferry_<version>_amd64.deb with
#   /usr/bin/ferry                              the command (stripped)
#   /usr/share/man/man1/ferry.1.gz              its manual page (`ferry help --man`)
#   /usr/lib/systemd/system/ferry-serve.service, ferry-worker@.service   (deploy/systemd)
#   /usr/share/doc/ferry/                       README, copyright, the Prometheus rules, the
#                                               Grafana dashboard, the Kubernetes manifests
# Its dependencies: what dpkg-shlibdeps finds in the binary's NEEDED libraries, and the three
# libraries ferry loads only when a command needs them (src/base/shared_library.h: libcurl for
# S3, libpq for PostgreSQL state, libmicrohttpd for the listeners), which no tool can see.
install(TARGETS ferry RUNTIME DESTINATION bin)
install(FILES ${CMAKE_BINARY_DIR}/src/cli/ferry.1.gz DESTINATION share/man/man1)
install(FILES deploy/systemd/ferry-serve.service deploy/systemd/ferry-worker@.service
        DESTINATION lib/systemd/system)
install(FILES README.md deploy/copyright DESTINATION share/doc/ferry)
install(FILES web/node_modules/uplot/LICENSE DESTINATION share/doc/ferry RENAME uplot-LICENSE)
install(DIRECTORY deploy/prometheus deploy/grafana deploy/kubernetes
        DESTINATION share/doc/ferry/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the ferry authors")
set(CPACK_PACKAGE_CONTACT "ferry maintainers <ferry@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "moves and replicates objects between S3-compatible stores and local folders")
set(CPACK_PACKAGE_DESCRIPTION
    "ferry copies, syncs and replicates objects between S3-compatible object stores (AWS S3,\
 Ceph RGW, MinIO, Swift, ...) and local folders, every byte checksummed, under one budget of\
 requests and memory; ferry serve replicates continuously from bucket events.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ferry_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# FERRY_DEB_DEPENDS (scripts/build-arm64.sh): the whole Depends, taken from the amd64 package;
# the cross build's dpkg-shlibdeps cannot see libisal2:arm64 (not installable beside the amd64 one)
if(FERRY_DEB_DEPENDS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${FERRY_DEB_DEPENDS}")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4, libpq5, libmicrohttpd12")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql, prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
