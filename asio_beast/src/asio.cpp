// The one translation unit that holds the compiled Asio implementation.
#include <boost/asio/impl/src.hpp>
