// The timeline SVG: one time axis, a lane per connection (client lane, then the server lane of
// the same TCP connection), trace points and server events as dots with staggered labels, phases
// as bars, and each limit as a bracket from its governing trace point with its firing marked.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tunedhttp/error.hpp>
#include <tunedhttp/harness/scenario.hpp>
#include <tunedhttp/harness/timeline.hpp>
#include <tunedhttp/pool_stats.hpp>

#include "timeline_model.hpp"

namespace tunedhttp::harness {
namespace {

using detail::Span;
using detail::TimePoint;
using std::chrono::nanoseconds;

// Layout, in SVG user units (pixels).
constexpr double canvas_width = 1100;
constexpr double plot_left = 200;    // lane labels sit left of this
constexpr double plot_right = 1070;  // room for the last label is made by padding the time span
constexpr double axis_y = 70;
constexpr double label_step = 12;  // vertical distance between label levels
constexpr double char_width =
    7.2;  // a 10px monospace character as librsvg/Pango draw it (browsers: ~6)
constexpr double lane_padding = 14;
constexpr double limit_row_height = 30;
constexpr int max_label_levels = 8;  // beyond this, labels overlap rather than grow the lane

const char* const client_colour = "#2b6cb0";
const char* const server_colour = "#c05621";
const char* const limit_colour = "#6b46c1";
const char* const fired_colour = "#c53030";

// Trace points drawn (the others stay in the Chrome trace): the ones the issue names, plus
// got_conn and the final response headers.
bool drawn(TracePoint point) {
  switch (point) {
    case TracePoint::get_conn:
    case TracePoint::dns_start:
    case TracePoint::dns_done:
    case TracePoint::connect_start:
    case TracePoint::connect_done:
    case TracePoint::got_1xx_response:
    case TracePoint::response_done:
      return false;
    default:
      return true;
  }
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

double to_ms(nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

// "203.1ms", "1.25s".
std::string format_ms(double ms) {
  char buffer[32];
  if (std::fabs(ms) >= 1000) {
    std::snprintf(buffer, sizeof buffer, "%.3gs", ms / 1000);
  } else if (std::fabs(ms) >= 100 || ms == std::floor(ms)) {
    std::snprintf(buffer, sizeof buffer, "%.0fms", ms);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1fms", ms);
  }
  return buffer;
}

// Unique ids: the second "c1-got_conn-r2" becomes "c1-got_conn-r2-2".
class Ids {
 public:
  std::string make(const std::string& base) {
    const int n = ++count_[base];
    return n == 1 ? base : base + "-" + std::to_string(n);
  }

 private:
  std::map<std::string, int> count_;
};

struct Mark {
  double x;
  std::string id;
  std::string label;
  std::string tooltip;
  double t_ms;
  bool failed;
};

struct Lane {
  bool client = true;
  std::uint64_t connection = 0;
  std::string id;
  std::string title;
  std::vector<Mark> marks;
  std::vector<Span> spans;
  std::vector<const TimelineLimit*> limits;
  // Layout results.
  std::vector<int> levels;
  std::vector<bool> anchored_end;  // label drawn left of its dot
  int level_count = 1;
  double top = 0;
  double baseline = 0;
  double bottom = 0;
};

Lane make_lane(bool client, std::uint64_t connection, std::string title) {
  Lane lane;
  lane.client = client;
  lane.connection = connection;
  lane.id = std::string(client ? "lane-client-" : "lane-server-") + std::to_string(connection);
  lane.title = std::move(title);
  return lane;
}

// Places each label on the lowest level where it overlaps no other label; a label that would
// run off the right edge is drawn to the left of its dot instead.
void place_labels(Lane& lane) {
  std::vector<std::vector<std::pair<double, double>>> occupied;  // per level: [from, to]
  lane.levels.clear();
  lane.anchored_end.clear();
  for (const auto& mark : lane.marks) {
    const double width = static_cast<double>(mark.label.size()) * char_width;
    const bool end = mark.x + 3 + width > canvas_width - 8;
    const double from = end ? mark.x - 3 - width : mark.x;
    const double to = end ? mark.x : mark.x + 3 + width;
    int level = 0;
    for (;; ++level) {
      if (level >= static_cast<int>(occupied.size())) occupied.resize(level + 1);
      bool free = true;
      for (const auto& [a, b] : occupied[level]) {
        if (from < b + 6 && a < to + 6) free = false;
      }
      if (free || level + 1 >= max_label_levels) break;
    }
    occupied[level].emplace_back(from, to);
    lane.levels.push_back(level);
    lane.anchored_end.push_back(end);
  }
  lane.level_count = std::max<int>(1, static_cast<int>(occupied.size()));
}

// A "nice" tick interval (1, 2 or 5 × 10^k ms) giving about 8 ticks over `span_ms`.
double tick_interval(double span_ms) {
  const double raw = span_ms / 8;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= step * power) return step * power;
  }
  return 10 * power;
}

std::string client_label(const TraceEvent& event) {
  std::string label(trace_point_name(event.point));
  if (event.point == TracePoint::got_conn) label += event.reused ? " (reused)" : " (new)";
  if (event.error) {
    label += ": " + error_name(event.error);
  } else if (!event.detail.empty() && (event.point == TracePoint::put_idle_conn ||
                                       event.point == TracePoint::idle_conn_closed)) {
    label += ": " + event.detail;
  }
  return label;
}

// Where everything goes: the time scale, the lanes (each with its marks, phases and limits, and
// its place on the page) and the picture's height. Made by lay_out, then written out by the
// small writers below, which only read it (and take ids, so each stays unique).
struct Layout {
  TimePoint origin{};
  double span_ms = 1;
  double px_per_ms = 1;
  double height = 0;
  std::vector<Lane> lanes;
  Ids ids;

  double x_of(TimePoint t) const { return plot_left + to_ms(t - origin) * px_per_ms; }

  Lane* lane_of(bool client, std::uint64_t connection) {
    for (auto& lane : lanes) {
      if (lane.client == client && lane.connection == connection) return &lane;
    }
    return nullptr;
  }
};

// The time span: every event, every limit's deadline and firing, plus room for the last label.
void set_time_scale(Layout& layout, const Timeline& timeline,
                    const std::vector<TraceEvent>& placed) {
  const TimePoint origin = layout.origin;
  double end_ms = 1;
  for (const auto& e : placed) end_ms = std::max(end_ms, to_ms(e.at - origin));
  for (const auto& e : timeline.server) end_ms = std::max(end_ms, to_ms(e.at - origin));
  for (const auto& limit : timeline.limits) {
    const double from = to_ms(limit.from - origin);
    end_ms = std::max(end_ms, from + to_ms(limit.configured));
    if (limit.fired_at) end_ms = std::max(end_ms, from + to_ms(*limit.fired_at));
  }
  layout.span_ms = end_ms * 1.18;  // labels of the last events need room on the right
  layout.px_per_ms = (plot_right - plot_left) / layout.span_ms;
}

// Lanes: client connections in order of first appearance, each followed by its server lane;
// then the server connections no client connection was paired with.
void add_lanes(Layout& layout, const Timeline& timeline, const std::vector<TraceEvent>& placed) {
  const auto pairs = detail::pair_connections(placed, timeline.server);
  std::vector<std::uint64_t> client_connections;
  for (const auto& e : placed) {
    if ((drawn(e.point) || e.error) &&
        std::find(client_connections.begin(), client_connections.end(), e.connection) ==
            client_connections.end()) {
      client_connections.push_back(e.connection);
    }
  }
  std::vector<std::uint64_t> server_connections;
  for (const auto& e : timeline.server) {
    if (std::find(server_connections.begin(), server_connections.end(), e.connection) ==
        server_connections.end()) {
      server_connections.push_back(e.connection);
    }
  }
  auto& lanes = layout.lanes;
  auto add_server_lane = [&](std::uint64_t connection, const std::string& paired) {
    lanes.push_back(
        make_lane(false, connection, "server conn " + std::to_string(connection) + paired));
  };
  std::set<std::uint64_t> server_drawn;
  for (auto connection : client_connections) {
    lanes.push_back(make_lane(
        true, connection,
        connection == 0 ? "client (no connection)" : "client conn " + std::to_string(connection)));
    if (auto it = pairs.find(connection); it != pairs.end()) {
      add_server_lane(it->second, "");
      server_drawn.insert(it->second);
    }
  }
  for (auto connection : server_connections) {
    if (server_drawn.count(connection) == 0) add_server_lane(connection, " (unpaired)");
  }
}

// The client's trace points and the server's events, each a mark on its lane.
void add_marks(Layout& layout, const Timeline& timeline, const std::vector<TraceEvent>& placed) {
  for (const auto& e : placed) {
    if (!drawn(e.point) && !e.error) continue;
    Lane* lane = layout.lane_of(true, e.connection);
    const std::string id =
        layout.ids.make("c" + std::to_string(e.connection) + "-" +
                        std::string(trace_point_name(e.point)) + "-r" + std::to_string(e.request));
    const double t = to_ms(e.at - layout.origin);
    std::string tooltip =
        client_label(e) + " at " + format_ms(t) + ", request " + std::to_string(e.request);
    if (e.point == TracePoint::got_conn && e.reused) {
      tooltip += ", idle for " + format_ms(to_ms(e.idle_time));
    }
    lane->marks.push_back(
        {layout.x_of(e.at), id, client_label(e), tooltip, t, static_cast<bool>(e.error)});
  }
  for (const auto& e : timeline.server) {
    Lane* lane = layout.lane_of(false, e.connection);
    const std::string kind(mockserver::event_kind_name(e.kind));
    const std::string id = layout.ids.make("s" + std::to_string(e.connection) + "-" + kind + "-r" +
                                           std::to_string(e.request));
    const double t = to_ms(e.at - layout.origin);
    const bool by_server = e.kind == mockserver::EventKind::closed_by_server;
    std::string label = kind;
    if (by_server && !e.detail.empty()) label += ": " + e.detail;
    lane->marks.push_back({layout.x_of(e.at), id, label,
                           label + " at " + format_ms(t) +
                               (e.detail.empty() || by_server ? "" : " (" + e.detail + ")"),
                           t, false});
  }
}

// Phases on their lanes; limits on their client lane (one is added when the connection drew
// nothing else).
void add_spans_and_limits(Layout& layout, const Timeline& timeline,
                          const std::vector<TraceEvent>& placed) {
  for (const auto& span : detail::client_spans(placed)) {
    if (Lane* lane = layout.lane_of(true, span.connection)) lane->spans.push_back(span);
  }
  for (const auto& span : detail::server_spans(timeline.server)) {
    if (Lane* lane = layout.lane_of(false, span.connection)) lane->spans.push_back(span);
  }
  for (const auto& limit : timeline.limits) {
    Lane* lane = layout.lane_of(true, limit.connection);
    if (lane == nullptr) {
      layout.lanes.push_back(
          make_lane(true, limit.connection, "client conn " + std::to_string(limit.connection)));
      lane = &layout.lanes.back();
    }
    lane->limits.push_back(&limit);
  }
}

// Vertical layout: lanes stacked under the axis, each as tall as its labels and limits need.
void stack_lanes(Layout& layout) {
  double y = axis_y + 16;
  for (auto& lane : layout.lanes) {
    std::stable_sort(lane.marks.begin(), lane.marks.end(),
                     [](const Mark& a, const Mark& b) { return a.x < b.x; });
    place_labels(lane);
    lane.top = y;
    lane.baseline = y + lane_padding + lane.level_count * label_step + 6;
    lane.bottom = lane.baseline + 14 + static_cast<double>(lane.limits.size()) * limit_row_height;
    y = lane.bottom + 4;
  }
  layout.height = y + 40;
}

Layout lay_out(const Timeline& timeline) {
  Layout layout;
  layout.origin = detail::timeline_origin(timeline);
  const auto placed = detail::placed_client_events(timeline.client);
  set_time_scale(layout, timeline, placed);
  add_lanes(layout, timeline, placed);
  add_marks(layout, timeline, placed);
  add_spans_and_limits(layout, timeline, placed);
  stack_lanes(layout);
  return layout;
}

// The SVG writers.

void write_header(std::ostream& svg, const Layout& layout, const Timeline& timeline) {
  const double height = layout.height;
  svg << R"(<?xml version="1.0" encoding="UTF-8"?>)"
      << "\n"
      << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << number(canvas_width)
      << R"(" height=")" << number(height) << R"(" viewBox="0 0 )" << number(canvas_width) << ' '
      << number(height) << R"(" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace")"
      << R"( font-size="10" data-t0-ms="0" data-plot-left=")" << number(plot_left)
      << R"(" data-px-per-ms=")" << layout.px_per_ms << R"(">)"
      << "\n";
  svg << "<title>" << escape(timeline.title) << "</title>\n";
  svg << R"(<rect x="0" y="0" width=")" << number(canvas_width) << R"(" height=")" << number(height)
      << R"(" fill="#ffffff"/>)"
      << "\n";
  svg << R"(<text id="title" x="12" y="22" font-size="15" font-weight="bold">)"
      << escape(timeline.title) << "</text>\n";
  svg << R"(<text id="subtitle" x="12" y="40" fill="#444">)" << escape(timeline.subtitle)
      << "</text>\n";
}

// The time axis with its grid.
void write_axis(std::ostream& svg, const Layout& layout) {
  const double tick = tick_interval(layout.span_ms);
  svg << R"(<g id="axis" stroke="#ccc">)"
      << "\n";
  svg << R"(<line x1=")" << number(plot_left) << R"(" y1=")" << number(axis_y) << R"(" x2=")"
      << number(plot_right) << R"(" y2=")" << number(axis_y) << R"(" stroke="#555"/>)"
      << "\n";
  for (double t = 0; t <= layout.span_ms; t += tick) {
    const double x = plot_left + t * layout.px_per_ms;
    svg << R"(<line x1=")" << number(x) << R"(" y1=")" << number(axis_y - 4) << R"(" x2=")"
        << number(x) << R"(" y2=")" << number(layout.height - 30) << R"(" stroke-dasharray="2,4"/>)"
        << R"(<text x=")" << number(x) << R"(" y=")" << number(axis_y - 8)
        << R"(" text-anchor="middle" stroke="none" fill="#555">)" << format_ms(t) << "</text>\n";
  }
  svg << "</g>\n";
  svg << R"(<text x="12" y=")" << number(axis_y - 8)
      << R"(" fill="#555">ms since first event</text>)"
      << "\n";
}

void write_spans(std::ostream& svg, Layout& layout, const Lane& lane, const char* colour) {
  for (const auto& span : lane.spans) {
    const double x1 = layout.x_of(span.begin);
    // An open span (still idle when the recording ended) runs to the right edge, faded.
    const double x2 = span.open ? plot_right : std::max(layout.x_of(span.end), x1 + 1);
    const std::string id = layout.ids.make(std::string("span-") + (lane.client ? "c" : "s") +
                                           std::to_string(lane.connection) + "-" + span.name);
    svg << R"(<rect id=")" << id << R"(" class="span" x=")" << number(x1) << R"(" y=")"
        << number(lane.baseline - 5) << R"(" width=")" << number(x2 - x1)
        << R"(" height="10" fill=")" << (span.failed ? fired_colour : colour)
        << R"(" fill-opacity=")" << (span.open ? "0.1" : "0.22") << R"("><title>)" << span.name
        << (span.open ? " (still idle at the end) " : " ")
        << format_ms(to_ms(span.end - span.begin)) << "</title></rect>\n";
  }
}

void write_marks(std::ostream& svg, const Lane& lane, const char* colour) {
  for (std::size_t i = 0; i < lane.marks.size(); ++i) {
    const auto& mark = lane.marks[i];
    const double label_y = lane.baseline - 10 - lane.levels[i] * label_step;
    const char* mark_colour = mark.failed ? fired_colour : colour;
    svg << R"(<line x1=")" << number(mark.x) << R"(" y1=")" << number(lane.baseline) << R"(" x2=")"
        << number(mark.x) << R"(" y2=")" << number(label_y + 2) << R"(" stroke=")" << mark_colour
        << R"(" stroke-opacity="0.35"/>)";
    svg << R"(<circle id=")" << mark.id << R"(" class="event )"
        << (lane.client ? "client" : "server") << R"(" cx=")" << number(mark.x) << R"(" cy=")"
        << number(lane.baseline) << R"(" r="3.5" fill=")" << mark_colour << R"(" data-t-ms=")"
        << number(mark.t_ms) << R"("><title>)" << escape(mark.tooltip) << "</title></circle>";
    svg << R"(<text id="label-)" << mark.id << R"(" x=")"
        << number(lane.anchored_end[i] ? mark.x - 3 : mark.x + 3) << R"(" y=")" << number(label_y)
        << R"(" fill=")" << mark_colour << R"(")"
        << (lane.anchored_end[i] ? R"( text-anchor="end")" : "") << ">" << escape(mark.label)
        << "</text>\n";
  }
}

// The measured firing of a limit: a diamond labelled with its time and lateness.
void write_firing(std::ostream& svg, Layout& layout, const TimelineLimit& limit, double x1,
                  double row_y) {
  const double fired_ms = to_ms(*limit.fired_at);
  const double lateness = fired_ms - to_ms(limit.configured);
  const double xf = x1 + fired_ms * layout.px_per_ms;
  const std::string fired_id =
      layout.ids.make("fired-" + limit.setting + "-c" + std::to_string(limit.connection));
  char late[48];
  std::snprintf(late, sizeof late, "%s%.1fms %s", lateness >= 0 ? "+" : "", lateness,
                lateness >= 0 ? "late" : "EARLY");
  svg << R"(<g id=")" << fired_id << R"(" class="fired" data-fired-ms=")" << number(fired_ms)
      << R"(" data-lateness-ms=")" << number(lateness) << R"(">)";
  svg << R"(<path d="M )" << number(xf) << ' ' << number(row_y - 6) << " L " << number(xf + 5)
      << ' ' << number(row_y) << " L " << number(xf) << ' ' << number(row_y + 6) << " L "
      << number(xf - 5) << ' ' << number(row_y) << R"( Z" fill=")" << fired_colour << R"("/>)";
  // Near the right edge the label goes left of the marker.
  const bool left = xf + 8 + 34 * char_width > canvas_width - 8;
  svg << R"(<text x=")" << number(left ? xf - 8 : xf + 8) << R"(" y=")" << number(row_y + 12)
      << R"(" fill=")" << fired_colour << R"(")" << (left ? R"( text-anchor="end")" : "")
      << R"(>fired at )" << format_ms(fired_ms) << " (" << late << ")</text></g>\n";
}

// A configured limit: a dashed bracket from its governing trace point to its deadline.
void write_limit(std::ostream& svg, Layout& layout, const Lane& lane, const TimelineLimit& limit,
                 double row_y) {
  const double x1 = layout.x_of(limit.from);
  const double x2 = x1 + to_ms(limit.configured) * layout.px_per_ms;
  const std::string id =
      layout.ids.make("limit-" + limit.setting + "-c" + std::to_string(limit.connection));
  const std::string text = limit.setting + " = " + format_ms(to_ms(limit.configured));
  svg << R"(<g id=")" << id << R"(" class="limit" data-from-ms=")"
      << number(to_ms(limit.from - layout.origin)) << R"(" data-configured-ms=")"
      << number(to_ms(limit.configured)) << R"(" stroke=")" << limit_colour << R"(">)";
  svg << R"(<line x1=")" << number(x1) << R"(" y1=")" << number(row_y) << R"(" x2=")" << number(x2)
      << R"(" y2=")" << number(row_y) << R"(" stroke-dasharray="5,3"/>)";
  svg << R"(<line x1=")" << number(x1) << R"(" y1=")" << number(row_y - 5) << R"(" x2=")"
      << number(x1) << R"(" y2=")" << number(row_y + 5) << R"("/>)";
  svg << R"(<line class="deadline" x1=")" << number(x2) << R"(" y1=")" << number(lane.top)
      << R"(" x2=")" << number(x2) << R"(" y2=")" << number(row_y + 5)
      << R"(" stroke-width="1.5"/>)";
  svg << R"(<text x=")" << number(x1 + 4) << R"(" y=")" << number(row_y - 3)
      << R"(" stroke="none" fill=")" << limit_colour << R"(">)" << escape(text) << "</text></g>\n";
  if (limit.fired_at) write_firing(svg, layout, limit, x1, row_y);
}

void write_lane(std::ostream& svg, Layout& layout, const Lane& lane) {
  const char* colour = lane.client ? client_colour : server_colour;
  svg << R"(<g id=")" << lane.id << R"(" class="lane )" << (lane.client ? "client" : "server")
      << R"(">)"
      << "\n";
  svg << R"(<rect x="4" y=")" << number(lane.top) << R"(" width=")" << number(canvas_width - 8)
      << R"(" height=")" << number(lane.bottom - lane.top) << R"(" fill=")"
      << (lane.client ? "#ebf4ff" : "#fffaf0") << R"(" stroke="none"/>)"
      << "\n";
  svg << R"(<text x="12" y=")" << number(lane.baseline + 4) << R"(" fill=")" << colour
      << R"(" font-size="12" font-weight="bold">)" << escape(lane.title) << "</text>\n";
  svg << R"(<line x1=")" << number(plot_left) << R"(" y1=")" << number(lane.baseline) << R"(" x2=")"
      << number(plot_right) << R"(" y2=")" << number(lane.baseline) << R"(" stroke=")" << colour
      << R"(" stroke-opacity="0.4"/>)"
      << "\n";
  write_spans(svg, layout, lane, colour);
  write_marks(svg, lane, colour);
  double row_y = lane.baseline + 14;
  for (const TimelineLimit* limit : lane.limits) {
    write_limit(svg, layout, lane, *limit, row_y);
    row_y += limit_row_height;
  }
  svg << "</g>\n";
}

void write_legend(std::ostream& svg, double height) {
  const double legend_y = height - 14;
  svg << R"(<g id="legend">)"
      << R"(<circle cx="16" cy=")" << number(legend_y - 3) << R"(" r="3.5" fill=")" << client_colour
      << R"("/><text x="24" y=")" << number(legend_y) << R"(">client trace point</text>)"
      << R"(<circle cx="156" cy=")" << number(legend_y - 3) << R"(" r="3.5" fill=")"
      << server_colour << R"("/><text x="164" y=")" << number(legend_y)
      << R"(">server event</text>)"
      << R"(<line x1="270" y1=")" << number(legend_y - 3) << R"(" x2="300" y2=")"
      << number(legend_y - 3) << R"(" stroke=")" << limit_colour
      << R"(" stroke-dasharray="5,3"/><text x="306" y=")" << number(legend_y)
      << R"(">configured limit, from its governing trace point</text>)"
      << R"(<path d="M 620 )" << number(legend_y - 9) << " L 625 " << number(legend_y - 3)
      << " L 620 " << number(legend_y + 3) << " L 615 " << number(legend_y - 3) << R"( Z" fill=")"
      << fired_colour << R"("/><text x="631" y=")" << number(legend_y)
      << R"(">measured firing (lateness)</text>)"
      << R"(<rect x="820" y=")" << number(legend_y - 8) << R"(" width="24" height="10" fill=")"
      << client_colour << R"(" fill-opacity="0.22"/><text x="850" y=")" << number(legend_y)
      << R"(">phase</text></g>)"
      << "\n";
}

}  // namespace

Timeline timeline_from_result(const ScenarioResult& result) {
  Timeline timeline;
  timeline.title = result.name;
  timeline.subtitle = (result.configured.empty() ? std::string("client: defaults")
                                                 : "client: " + result.configured) +
                      " · " + (result.passed ? "PASS" : "FAIL") + " · " + result.file;
  timeline.client = result.client_trace;
  timeline.server = result.server_events;
  for (const auto& timing : result.timings) {
    timeline.limits.push_back({std::string(setting_row(timing.setting).name), timing.connection,
                               timing.started, timing.configured, timing.fired_at});
  }
  return timeline;
}

std::vector<TimelineLimit> limits_from_trace(const Settings& settings,
                                             const std::vector<TraceEvent>& trace) {
  const auto placed = detail::placed_client_events(trace);
  std::vector<TimelineLimit> limits;
  // Each timer with a start and stop points in the trace; expect_continue's body goes out at
  // expiry without a trace point of its own, so no firing is shown for it.
  for (const auto& row : settings_table) {
    const auto configured = timer_value(settings, row);
    if (!row.starts || row.stop_count == 0 || !configured) continue;
    if (*configured <= nanoseconds::zero()) continue;
    const bool idle = row.scope == TimerScope::idle;
    const auto stops = row.stop_points();
    for (std::size_t i = 0; i < placed.size(); ++i) {
      const auto& start = placed[i];
      if (start.point != *row.starts) continue;
      if (idle && (start.error || !start.detail.empty())) continue;  // not pooled
      TimelineLimit limit{std::string(row.name), start.connection, start.at, *configured,
                          std::nullopt};
      for (std::size_t j = i + 1; j < placed.size(); ++j) {
        const auto& end = placed[j];
        if (end.connection != start.connection) continue;
        if (!idle && end.request != start.request) continue;
        if (std::find(stops.begin(), stops.end(), end.point) == stops.end()) continue;
        const bool fired = idle ? end.point == TracePoint::idle_conn_closed &&
                                      end.detail == close_reason_name(CloseReason::idle_timeout)
                                : row.timeout && end.error == make_error_code(*row.timeout);
        if (fired) limit.fired_at = end.at - start.at;
        break;
      }
      limits.push_back(std::move(limit));
    }
  }
  return limits;
}

Timeline timeline_from_trace(std::string title, std::string subtitle, const Settings& settings,
                             std::vector<TraceEvent> trace) {
  Timeline timeline;
  timeline.title = std::move(title);
  timeline.subtitle = std::move(subtitle);
  // Outside the runner nothing bounds the picture but the trace itself: a limit that did not
  // fire and whose deadline lies past the last event (the 30 s connect of a 2 ms dial) would
  // stretch the axis and hide everything else, so only the ones that matter are drawn.
  std::chrono::steady_clock::time_point last{};
  for (const auto& event : trace) last = std::max(last, event.at);
  for (auto& limit : limits_from_trace(settings, trace)) {
    if (limit.fired_at || limit.from + limit.configured <= last) {
      timeline.limits.push_back(std::move(limit));
    }
  }
  timeline.client = std::move(trace);
  return timeline;
}

std::string timeline_file_name(const std::string& scenario_name) {
  std::string name;
  for (char c : scenario_name) {
    if (c == '/') {
      name += "--";
    } else if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' ||
               c == '.') {
      name += c;
    } else {
      name += '_';
    }
  }
  return name + ".svg";
}

std::string render_timeline_svg(const Timeline& timeline) {
  Layout layout = lay_out(timeline);
  std::ostringstream svg;
  write_header(svg, layout, timeline);
  write_axis(svg, layout);
  for (const auto& lane : layout.lanes) write_lane(svg, layout, lane);
  write_legend(svg, layout.height);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace tunedhttp::harness
