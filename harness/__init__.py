"""MLPerf Inference harness for Llama-3.1-8B-Instruct on CNN-DailyMail, served by vLLM."""
