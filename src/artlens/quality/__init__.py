"""Image quality screening: technical metrics, classical IQA, marketplace compliance, policies, reports."""
