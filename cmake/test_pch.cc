// The source ferry_test_pch compiles to build cmake/test_pch.h (cmake/FerryTest.cmake).
