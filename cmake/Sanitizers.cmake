# FERRY_SANITIZE=address,undefined or thread: instrument everything.
set(FERRY_SANITIZE "" CACHE STRING "Sanitizers to enable (address,undefined | thread)")
if(FERRY_SANITIZE)
  # a UBSan finding stops the process (a failed test), not a line in its output
  add_compile_options(-fsanitize=${FERRY_SANITIZE} -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${FERRY_SANITIZE} -fno-sanitize-recover=undefined)
endif()
