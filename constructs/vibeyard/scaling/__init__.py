"""How workloads scale and where they land: HPAs, KEDA queue scalers, VPAs,
disruption budgets and node placement."""
