# -Wall -Wextra -Wpedantic everywhere; -Werror when FERRY_WERROR is on (CI turns it on).
option(FERRY_WERROR "Treat warnings as errors" OFF)
add_compile_options(-Wall -Wextra -Wpedantic)
if(FERRY_WERROR)
  add_compile_options(-Werror)
endif()
