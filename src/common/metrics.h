#pragma once
// A small Prometheus metrics registry: counter and histogram families with labels, and gauges read
// by callback at scrape time. Rendered in the Prometheus text exposition format (version 0.0.4).
//
// Families are created once at start-up (Add*), then updated from any thread; all methods are
// thread-safe. Label values are given in the order of the family's label names.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace auri {

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  // REQUIRES: label_values.size() == number of label names.
  void Inc(const std::vector<std::string>& label_values, double delta = 1);
  double Value(const std::vector<std::string>& label_values) const;
  void Render(std::string* out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, double> values_;
};

class HistogramFamily {
 public:
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is added.
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  void Observe(const std::vector<std::string>& label_values, double value);
  uint64_t Count(const std::vector<std::string>& label_values) const;
  void Render(std::string* out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // cumulative counts are computed at render time
    uint64_t count = 0;
    double sum = 0;
  };
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Series> series_;
};

class MetricsRegistry {
 public:
  // Returned pointers live as long as the registry.
  CounterFamily* AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  HistogramFamily* AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds);
  // A gauge whose value is read by calling `read` at scrape time (must be thread-safe and fast).
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  // A gauge family with labels, read at scrape time: `read` returns (label values, value) pairs,
  // label values in the order of `label_names` (e.g. one series per backup repository).
  using LabelledValues = std::vector<std::pair<std::vector<std::string>, double>>;
  void AddGaugeFamily(std::string name, std::string help, std::vector<std::string> label_names,
                      std::function<LabelledValues()> read);

  // The whole registry in the text exposition format.
  std::string Render() const;

 private:
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
    std::vector<std::string> label_names;  // family gauges only
    std::function<LabelledValues()> read_family;
  };
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<Gauge> gauges_;
};

// Resident set size of this process in bytes (from /proc/self/statm), 0 if unreadable.
double ProcessResidentBytes();

}  // namespace auri
