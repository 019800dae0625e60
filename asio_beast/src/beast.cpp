// The one translation unit that holds the compiled Beast implementation.
#include <boost/beast/src.hpp>
