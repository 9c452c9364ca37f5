"""Grid performance: KPIs (docs/kpis.md), targets per grid, the reports API, the demo-data generator."""
