"""The Lab: feedback on outputs, challenges, experiments, irritants, dashboards, showcase."""
