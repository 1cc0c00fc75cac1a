"""Analytics on the warehouse: the home dashboard, drill-downs to customers, funnels, retention and repurchase."""
