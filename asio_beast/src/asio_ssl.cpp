// The one translation unit that holds the compiled Asio.SSL implementation.
#include <boost/asio/ssl/impl/src.hpp>
