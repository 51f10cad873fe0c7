#include "common/metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>

namespace auri {
namespace {

void AppendLabelValue(std::string* out, const std::string& v) {
  for (char c : v) {
    if (c == '\\')
      out->append("\\\\");
    else if (c == '"')
      out->append("\\\"");
    else if (c == '\n')
      out->append("\\n");
    else
      out->push_back(c);
  }
}

void AppendLabels(std::string* out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const char* extra_name = nullptr,
                  const std::string& extra_value = {}) {
  if (names.empty() && !extra_name) return;
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out->push_back(',');
    first = false;
    out->append(names[i]).append("=\"");
    AppendLabelValue(out, values[i]);
    out->push_back('"');
  }
  if (extra_name) {
    if (!first) out->push_back(',');
    out->append(extra_name).append("=\"").append(extra_value).push_back('"');
  }
  out->push_back('}');
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

void AppendHeader(std::string* out, const std::string& name, const std::string& help,
                  const char* type) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void CounterFamily::Inc(const std::vector<std::string>& label_values, double delta) {
  std::lock_guard lock(mu_);
  values_[label_values] += delta;
}

double CounterFamily::Value(const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(label_values);
  return it == values_.end() ? 0 : it->second;
}

void CounterFamily::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "counter");
  std::lock_guard lock(mu_);
  if (values_.empty() && label_names_.empty()) out->append(name_).append(" 0\n");
  for (const auto& [labels, v] : values_) {
    out->append(name_);
    AppendLabels(out, label_names_, labels);
    out->append(" ").append(FormatNumber(v)).append("\n");
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

void HistogramFamily::Observe(const std::vector<std::string>& label_values, double value) {
  std::lock_guard lock(mu_);
  Series& s = series_[label_values];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++s.buckets[i];
      break;
    }
  }
  ++s.count;
  s.sum += value;
}

uint64_t HistogramFamily::Count(const std::vector<std::string>& label_values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(label_values);
  return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "histogram");
  std::lock_guard lock(mu_);
  for (const auto& [labels, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += i < bounds_.size() ? s.buckets[i] : 0;
      std::string le = i < bounds_.size() ? FormatNumber(bounds_[i]) : "+Inf";
      out->append(name_).append("_bucket");
      AppendLabels(out, label_names_, labels, "le", le);
      out->append(" ").append(std::to_string(i < bounds_.size() ? cumulative : s.count));
      out->append("\n");
    }
    out->append(name_).append("_sum");
    AppendLabels(out, label_names_, labels);
    out->append(" ").append(FormatNumber(s.sum)).append("\n");
    out->append(name_).append("_count");
    AppendLabels(out, label_names_, labels);
    out->append(" ").append(std::to_string(s.count)).append("\n");
  }
}

CounterFamily* MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  counters_.push_back(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
  return counters_.back().get();
}

HistogramFamily* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::move(name), std::move(help), std::move(label_names), std::move(bounds)));
  return histograms_.back().get();
}

void MetricsRegistry::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read), {}, nullptr});
}

void MetricsRegistry::AddGaugeFamily(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::function<LabelledValues()> read) {
  std::lock_guard lock(mu_);
  gauges_.push_back(
      {std::move(name), std::move(help), nullptr, std::move(label_names), std::move(read)});
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& c : counters_) c->Render(&out);
  for (const auto& h : histograms_) h->Render(&out);
  for (const auto& g : gauges_) {
    AppendHeader(&out, g.name, g.help, "gauge");
    if (g.read_family) {
      for (const auto& [labels, value] : g.read_family()) {
        out.append(g.name);
        AppendLabels(&out, g.label_names, labels);
        out.append(" ").append(FormatNumber(value)).append("\n");
      }
      continue;
    }
    out.append(g.name).append(" ").append(FormatNumber(g.read())).append("\n");
  }
  return out;
}

double ProcessResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

}  // namespace auri
