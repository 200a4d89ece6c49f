"""The packager: the SAM template, the IAM policies of each function, the deployment zip."""
