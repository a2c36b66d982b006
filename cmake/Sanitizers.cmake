# FERRY_SANITIZE=address,undefined or thread: instrument everything.
set(FERRY_SANITIZE "" CACHE STRING "Sanitizers to enable (address,undefined | thread)")
if(FERRY_SANITIZE)
  add_compile_options(-fsanitize=${FERRY_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${FERRY_SANITIZE})
endif()
