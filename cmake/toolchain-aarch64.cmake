# Cross-compiling ferry for arm64 (aarch64) on a Debian amd64 machine: Debian's cross toolchain
# (g++-aarch64-linux-gnu) and the arm64 -dev packages installed beside the amd64 ones through
# multiarch (dpkg --add-architecture arm64; scripts/install-deps.sh arm64). No sysroot: the arm64
# libraries live in /usr/lib/aarch64-linux-gnu, their arch-independent headers in /usr/include.
# scripts/build-arm64.sh uses it; programs built here run under qemu-user (the emulator below also
# runs `ferry help --man` at build time for the manual page).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
# pkg-config must read the arm64 .pc files, not the amd64 ones
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
