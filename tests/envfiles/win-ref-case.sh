export JAVA_HOME="$UserProfile\jdk"
